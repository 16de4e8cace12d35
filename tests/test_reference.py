"""The oracle against the notebook's own code run verbatim, and against PyTorch."""

import collections

import numpy as np
import pytest

from kernels import get_task, init_uniform
from kernels.model import PARAM_NAMES
from kernels.recipe import Recipe
from kernels.reference import ADAPTIVE as REFERENCE_RULES
from kernels.reference import _Net, shuffled_order, train_one


def notebook_loop(seed: int, lr: float, epochs: int):
    """Cells In [1]-[528] of ../shared/seed/xor_notebook.txt, loop uncommented."""

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        return x * (1 - x)

    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    expected_output = np.array([[0], [1], [1], [0]])
    np.random.seed(seed)
    hidden_weights = np.random.uniform(size=(2, 2))
    hidden_bias = np.random.uniform(size=(1, 2))
    output_weights = np.random.uniform(size=(2, 1))
    output_bias = np.random.uniform(size=(1, 1))
    for _ in range(epochs):
        hidden_layer_activation = inputs @ hidden_weights
        hidden_layer_activation += hidden_bias
        hidden_layer_output = sigmoid(hidden_layer_activation)
        output_layer_activation = hidden_layer_output @ output_weights
        output_layer_activation += output_bias
        predicted_output = sigmoid(output_layer_activation)
        error = expected_output - predicted_output
        d_predicted_output = error * sigmoid_derivative(predicted_output)
        error_hidden_layer = d_predicted_output @ output_weights.T
        d_hidden_layer = error_hidden_layer * sigmoid_derivative(hidden_layer_output)
        output_weights += lr * (hidden_layer_output.T @ d_predicted_output)
        output_bias += np.sum(d_predicted_output, axis=0, keepdims=True) * lr
        hidden_weights += lr * (inputs.T @ d_hidden_layer)
        hidden_bias += np.sum(d_hidden_layer, axis=0, keepdims=True) * lr
    return {
        "w_hidden": hidden_weights,
        "b_hidden": hidden_bias,
        "w_out": output_weights,
        "b_out": output_bias,
        "outputs": predicted_output,
    }


def test_reference_reproduces_the_notebook_seed_314():
    X, Y = get_task("xor")
    nb = notebook_loop(314, 0.1, 10_000)
    ref = train_one(X, Y, init_uniform(314, 2, 2, 1), 0.1, 10_000, 0.1, 0)
    for name in ("w_hidden", "b_hidden", "w_out", "b_out"):
        np.testing.assert_allclose(ref[name], nb[name], rtol=0, atol=1e-12)
    # The notebook trains: its XOR outputs end on the right side of 0.5.
    assert ref["epoch_solved"] >= 0


def test_reference_statistics_follow_their_definitions():
    X, Y = get_task("xor")
    run = train_one(X, Y, init_uniform(314, 2, 2, 1), 0.5, 3000, 0.1, 100)
    assert 0 < run["epoch_solved"] <= run["epoch_converged"] <= 3000
    assert run["epoch_diverged"] == -1
    assert run["loss_curve"].shape == (31,)
    assert run["loss_curve"][-1] == run["final_loss"]
    assert np.max(np.abs(Y - run["outputs"])) < 0.1
    # Training one epoch short of convergence does not converge.
    short = train_one(X, Y, init_uniform(314, 2, 2, 1), 0.5, run["epoch_converged"] - 1, 0.1, 0)
    assert short["epoch_converged"] == -1
    assert np.max(np.abs(Y - short["outputs"])) >= 0.1


# --- an independent library: PyTorch autograd and torch.optim.SGD ---------------


def torch_train(X, Y, params, lr, epochs, recipe, seed):
    """Train one network with autograd gradients and torch's own SGD.

    torch.optim.SGD keeps v <- mu v + g and steps w <- w - lr v; with a
    constant lr that is the heavy-ball update v <- mu v - lr g, w <- w + v
    (its v is ours over -lr). With nesterov=True it steps w <- w - lr (g + mu v),
    which is ours: w <- w - lr g + mu v. torch.optim.Adam's update is ours
    (kernels.step.adam) but for its first moment, which it moves by a lerp:
    equal to rounding. torch.optim.Rprop is iRprop- (Igel & Hüsken 2000): on a
    sign change it forgets the gradient and does not move, where Riedmiller &
    Braun's Rprop undoes its last change; its lr is the initial step size.
    Their weight_decay adds lambda w to g, as ours, here on the weights only (a
    parameter group without it for the biases; Rprop has none). torch.optim.RMSprop
    (alpha: our rms_decay) and torch.optim.Adagrad add their eps outside the
    square root, as ours do.
    """
    torch = pytest.importorskip("torch")  # the [test] extra installs it
    import torch.nn.functional as F

    Xc, Yc = (torch.tensor(a, dtype=torch.float64) for a in recipe.code(X, Y))
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    groups = [
        {"params": [p["w_hidden"], p["w_out"]], "weight_decay": recipe.weight_decay},
        {"params": [p["b_hidden"], p["b_out"]], "weight_decay": 0.0},
    ]
    if recipe.optimizer == "irprop-":  # torch's Rprop has no weight decay
        opt = torch.optim.Rprop(
            [p[k] for k in params],
            lr=lr,
            etas=(recipe.eta_minus, recipe.eta_plus),
            step_sizes=(recipe.delta_min, recipe.delta_max),
        )
    elif recipe.optimizer == "rmsprop":
        opt = torch.optim.RMSprop(groups, lr=lr, alpha=recipe.rms_decay, eps=recipe.rms_eps)
    elif recipe.optimizer == "adagrad":
        opt = torch.optim.Adagrad(groups, lr=lr, eps=recipe.adagrad_eps)
    elif recipe.optimizer == "adam":
        opt = torch.optim.Adam(
            groups, lr=lr, betas=(recipe.beta1, recipe.beta2), eps=recipe.adam_eps
        )
    else:
        opt = torch.optim.SGD(
            groups, lr=lr, momentum=recipe.momentum, nesterov=recipe.optimizer == "nesterov"
        )
    act = {
        "logistic": torch.sigmoid,
        "tanh": torch.tanh,
        "arctan": torch.atan,
        "symmetric": lambda a: torch.sigmoid(a) - 0.5,
        "relu": torch.relu,
        "linear": lambda a: a,
    }

    def loss(rows):
        hidden = act[recipe.activation](Xc[rows] @ p["w_hidden"] + p["b_hidden"])
        a = hidden @ p["w_out"] + p["b_out"]
        if recipe.loss == "xent":
            return F.binary_cross_entropy_with_logits(a, Yc[rows], reduction="sum")
        if recipe.loss == "atanh":  # whose gradient is Fahlman's 2 atanh(e) f'(a)
            e = Yc[rows] - act[recipe.output_activation](a)
            return (2 * e * torch.atanh(e) + torch.log1p(-e * e)).sum()
        return 0.5 * ((Yc[rows] - act[recipe.output_activation](a)) ** 2).sum()

    state = seed
    for _ in range(epochs):
        if recipe.update == "batch":
            steps = [list(range(len(X)))]
        elif recipe.update == "online":
            steps = [[q] for q in range(len(X))]
        else:
            state, order = shuffled_order(state, len(X))
            steps = [[q] for q in order]
        for rows in steps:
            opt.zero_grad()
            loss(rows).backward()
            opt.step()
    return {k: v.detach().numpy() for k, v in p.items()}


TORCH_RECIPES = [
    Recipe(),
    Recipe(momentum=0.9),
    Recipe(update="online", activation="tanh", weight_decay=1e-3),
    Recipe(update="shuffled", output_activation="tanh", targets=(-1.0, 1.0), inputs="bipolar"),
    Recipe(loss="xent", momentum=0.5, targets=(0.1, 0.9)),
    Recipe(loss="xent", update="shuffled", activation="tanh", weight_decay=1e-2, momentum=0.9),
    Recipe(optimizer="nesterov", momentum=0.9),
    Recipe(optimizer="nesterov", momentum=0.5, update="online", weight_decay=1e-3),
    Recipe(optimizer="adam"),
    Recipe(optimizer="adam", update="online", weight_decay=1e-3, beta1=0.5, beta2=0.99),
    Recipe(optimizer="irprop-"),
    # Sign-only rules turn a gradient whose sign is decided at rounding level (a
    # saturated unit) into a whole step: compared on runs that do not saturate.
    Recipe(optimizer="irprop-", eta_plus=1.1, eta_minus=0.3, delta_max=1.0),
    Recipe(optimizer="rmsprop"),
    Recipe(optimizer="rmsprop", update="online", weight_decay=1e-3, rms_decay=0.99),
    Recipe(optimizer="adagrad"),
    Recipe(optimizer="adagrad", update="shuffled", weight_decay=1e-3, adagrad_eps=1e-6),
    Recipe(activation="arctan", output_activation="arctan", targets=(-1.0, 1.0), momentum=0.9),
    Recipe(
        activation="symmetric", output_activation="symmetric", loss="atanh", targets=(-0.5, 0.5)
    ),
    Recipe(activation="relu", output_activation="linear", update="online", targets=(-1.0, 1.0)),
]


@pytest.mark.parametrize("recipe", TORCH_RECIPES, ids=repr)
def test_pytorch_autograd_and_sgd_retrain_the_same_networks(recipe):
    X, Y = get_task("xor")
    for seed, lr in ((3, 0.05), (11, 0.2)):
        params = init_uniform(seed, 2, 3, 1, -1.0, 1.0)
        ours = train_one(X, Y, params, lr, 200, 0.1, 0, recipe=recipe, seed=seed)
        theirs = torch_train(X, Y, params, lr, 200, recipe, seed)
        for name in params:
            np.testing.assert_allclose(
                ours[name], theirs[name], rtol=1e-9, atol=1e-12, err_msg=name
            )


def offset_sigmoid(torch, offset: float):
    """The logistic function whose backward pass uses y (1 - y) + ``offset``: Fahlman's
    ACTIVATION_PRIME with its SigmoidPrimeOffset, as a torch autograd function."""

    class OffsetSigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            y = torch.sigmoid(a)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * (y * (1 - y) + offset)

    return OffsetSigmoid.apply


def fahlman_quickprop(X, Y, params, lr, epochs, mu, seen, prime_offset=0.0):
    """Quickprop transcribed from Fahlman's Quickprop 1 code (1988; UPDATE_WEIGHTS
    in T. Regier's C translation), weight by weight, with its mode-switch
    threshold 0, no split epsilon and no momentum; the slopes (minus the
    gradient of the squared error over the task, with ``prime_offset`` added
    to every sigmoid's derivative as his ACTIVATION_PRIME does) come from
    torch autograd. ``seen`` counts the rule's cases met."""
    torch = pytest.importorskip("torch")
    sigmoid = offset_sigmoid(torch, prime_offset)

    Xt, Yt = (torch.tensor(a, dtype=torch.float64) for a in (X, Y))
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    prev_slopes = {k: np.zeros(v.size) for k, v in params.items()}
    deltas = {k: np.zeros(v.size) for k, v in params.items()}
    shrink = mu / (1.0 + mu)
    for _ in range(epochs):
        for t in p.values():
            t.grad = None
        hidden = sigmoid(Xt @ p["w_hidden"] + p["b_hidden"])
        out = sigmoid(hidden @ p["w_out"] + p["b_out"])
        (0.5 * ((Yt - out) ** 2).sum()).backward()
        with torch.no_grad():
            for k, t in p.items():
                slopes = (-t.grad).numpy().ravel()
                weights = t.numpy().reshape(-1)  # a view: updated in place
                delta, prev = deltas[k], prev_slopes[k]
                for i in range(slopes.size):
                    s, step = slopes[i], 0.0
                    if delta[i] > 0.0:
                        if s > 0.0:
                            step += lr * s
                            seen["gradient term"] += 1
                        if s > shrink * prev[i]:
                            step += mu * delta[i]
                            seen["largest step"] += 1
                        else:
                            step += s / (prev[i] - s) * delta[i]
                            seen["parabola"] += 1
                    elif delta[i] < 0.0:
                        if s < 0.0:
                            step += lr * s
                            seen["gradient term"] += 1
                        if s < shrink * prev[i]:
                            step += mu * delta[i]
                            seen["largest step"] += 1
                        else:
                            step += s / (prev[i] - s) * delta[i]
                            seen["parabola"] += 1
                    else:
                        step += lr * s
                        seen["gradient descent"] += 1
                    delta[i] = step
                    weights[i] += step
                    prev[i] = s
    return {k: v.detach().numpy() for k, v in p.items()}


@pytest.mark.parametrize(("mu", "prime_offset"), [(1.75, 0.1), (1.2, 0.0)])
def test_quickprop_is_fahlmans_published_rule(mu, prime_offset):
    # Quickprop's jumps divide by differences of slopes, so the two gradients'
    # rounding (~1e-16) grows by orders of magnitude within tens of epochs:
    # compared over 12, where every case of the rule is met.
    X, Y = get_task("xor")
    seen = collections.Counter()
    for seed, lr in ((3, 0.5), (11, 1.5), (5, 0.1)):
        params = init_uniform(seed, 2, 3, 1, -1.0, 1.0)
        recipe = Recipe(optimizer="quickprop", max_factor=mu, prime_offset=prime_offset)
        ours = train_one(X, Y, params, lr, 12, 0.1, 0, recipe=recipe, seed=seed)
        theirs = fahlman_quickprop(X, Y, params, lr, 12, mu, seen, prime_offset)
        for name in params:
            np.testing.assert_allclose(
                ours[name], theirs[name], rtol=1e-9, atol=1e-12, err_msg=name
            )
    assert set(seen) == {"gradient term", "largest step", "parabola", "gradient descent"}


def test_delta_bar_delta_is_jacobs_rule():
    # One weight by hand: its rate starts at lr, grows by kappa while minus the
    # gradient g keeps the sign of its running average, shrinks by phi when not.
    recipe = Recipe(optimizer="delta-bar-delta", dbd_kappa=0.05, dbd_phi=0.5, dbd_theta=0.7)
    net = _Net({n: np.zeros((1, 1)) for n in PARAM_NAMES}, recipe, np.dtype(float), {})
    w, rate, bar = 0.0, 0.1, 0.0
    for g in (1.0, 2.0, 0.5, -1.0, -1.0, 3.0):
        if bar * g > 0:
            rate += 0.05
        elif bar * g < 0:
            rate *= 0.5
        w, bar = w + rate * g, 0.3 * g + 0.7 * bar
        REFERENCE_RULES["delta-bar-delta"](net, "wo", net.wo, np.array([[g]]), 0.1)
        assert net.wo[0, 0] == pytest.approx(w, rel=1e-15)
        assert net.steps["wo"][0, 0] == pytest.approx(rate, rel=1e-15)
