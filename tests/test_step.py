"""The training step (kernels.step) in every compiled variant against the numpy oracle.

Every recipe below on the general kernel in exact arithmetic (float64), and
a covering set of them (:data:`COVERING`: every part, update and term at
least once) in fast arithmetic on both kernels (float64) and in float32 in
one exp mode per recipe (alternating), on randomised cases (see
:func:`_compiled`): exact arithmetic equals the reference run with libm's exp
and tanh bit for bit (float32 too: the reference computes in the weights'
dtype); fast arithmetic equals it to rounding. Then gradients against central
finite differences.
"""

import functools
import zlib

import numpy as np
import pytest
from conftest import FAST_ATOL, FAST_RTOL, LIBM, libm_exp, libm_tanh, one_worker

from kernels import get_task, init_batch, init_uniform, reference, tiled, train_batch
from kernels.recipe import Recipe

RECIPES = {
    "notebook": Recipe(),
    "tanh-momentum-bipolar": Recipe(
        activation="tanh", momentum=0.9, inputs="bipolar", targets=(0.1, 0.9)
    ),
    "tanh-out-online-decay-prime": Recipe(
        output_activation="tanh",
        update="online",
        weight_decay=1e-3,
        targets=(-1.0, 1.0),
        prime_offset=0.05,
    ),
    "xent-shuffled-momentum-decay-prime": Recipe(
        activation="tanh",
        loss="xent",
        update="shuffled",
        momentum=0.5,
        weight_decay=1e-4,
        prime_offset=0.1,
    ),
    "xent-online-momentum": Recipe(
        loss="xent", update="online", momentum=0.9, inputs="bipolar", targets=(0.1, 0.9)
    ),
    "tanh-tanh-decay": Recipe(
        activation="tanh",
        output_activation="tanh",
        weight_decay=1e-3,
        inputs="bipolar",
        targets=(-1.0, 1.0),
    ),
    "nesterov-decay-prime": Recipe(
        optimizer="nesterov", momentum=0.9, weight_decay=1e-3, prime_offset=0.1
    ),
    "adam-online-xent-decay": Recipe(
        optimizer="adam",
        update="online",
        loss="xent",
        weight_decay=1e-3,
        beta1=0.5,
        beta2=0.9,
        adam_eps=1e-6,
        targets=(0.1, 0.9),
    ),
    "adam-elliott": Recipe(
        optimizer="adam", activation="elliott", output_activation="elliott", targets=(-0.5, 0.5)
    ),
    "rprop-decay": Recipe(optimizer="rprop", weight_decay=1e-3),
    "irprop-tanh": Recipe(
        optimizer="irprop-",
        activation="tanh",
        eta_plus=1.3,
        eta_minus=0.4,
        delta_max=10.0,
        delta_min=1e-4,
        inputs="bipolar",
    ),
    "quickprop-decay-xent": Recipe(
        optimizer="quickprop", weight_decay=1e-4, loss="xent", max_factor=2.0, targets=(0.1, 0.9)
    ),
    # rprop-decay's kernels (the same variant), with subnormals flushed.
    "rprop-decay-flush": Recipe(optimizer="rprop", weight_decay=1e-3, subnormals="flush"),
    # Fahlman's Quickprop set-up with plain steps: symmetric sigmoids, atanh error.
    "arctan-symmetric-atanh-momentum-prime": Recipe(
        activation="arctan",
        output_activation="symmetric",
        loss="atanh",
        targets=(-0.5, 0.5),
        momentum=0.5,
        prime_offset=0.1,
    ),
    "relu-linear-online-decay": Recipe(
        activation="relu",
        output_activation="linear",
        update="online",
        weight_decay=1e-3,
        targets=(-1.0, 1.0),
    ),
    # The optimisers that run through their table entry (kernels.optimizers).
    "rmsprop-online-decay-tanh": Recipe(
        optimizer="rmsprop", update="online", weight_decay=1e-3, activation="tanh", rms_decay=0.8
    ),
    "adagrad-shuffled-xent": Recipe(optimizer="adagrad", update="shuffled", loss="xent"),
    "delta-bar-delta-symmetric-arctan-decay-prime": Recipe(
        optimizer="delta-bar-delta",
        weight_decay=1e-4,
        prime_offset=0.1,
        dbd_kappa=0.05,
        activation="symmetric",
        output_activation="arctan",
        inputs="bipolar",
        targets=(-1.0, 1.0),
    ),
    "symmetric-arctan-shuffled-bipolar": Recipe(
        activation="symmetric",
        output_activation="arctan",
        update="shuffled",
        inputs="bipolar",
        targets=(-1.0, 1.0),
    ),
}
#: Each recipe's task (one shape per recipe: its generated kernel compiles once;
#: small, as compiling takes seconds; test_tiled covers larger shapes).
TASKS = {
    "notebook": "xor",
    "tanh-momentum-bipolar": "or",
    "tanh-out-online-decay-prime": "xnor",
    "xent-shuffled-momentum-decay-prime": "parity3",
    "xent-online-momentum": "and",
    "tanh-tanh-decay": "encoder3",
    "nesterov-decay-prime": "xor",
    "adam-online-xent-decay": "or",
    "adam-elliott": "xnor",
    "rprop-decay": "xor",
    "irprop-tanh": "parity4",  # 16 samples: their loop in the generated kernel
    "quickprop-decay-xent": "encoder4",
    "rprop-decay-flush": "xor",
    "arctan-symmetric-atanh-momentum-prime": "encoder3",
    "relu-linear-online-decay": "xnor",
    "symmetric-arctan-shuffled-bipolar": "parity3",
    "rmsprop-online-decay-tanh": "or",
    "adagrad-shuffled-xent": "xnor",
    "delta-bar-delta-symmetric-arctan-decay-prime": "encoder3",
}
FLOATS = ("w_hidden", "b_hidden", "w_out", "b_out", "final_loss", "outputs", "loss_curve")
INTS = ("epoch_solved", "epoch_converged", "epoch_diverged", "epoch_mse_target")
#: float32 against the float32 reference, fast arithmetic (FMA, own exp and tanh):
#: measured at most ~2e-5 relative over these cases' well-conditioned networks.
FAST32_RTOL = 1e-3
FAST32_ATOL = 1e-5
#: Fast arithmetic is compared on the networks whose training is well conditioned:
#: where a trajectory is chaotic (large lr, or tanh with momentum from lr ~ 0.5),
#: one ulp of difference grows to O(1) for any two implementations. A network
#: counts as well conditioned when the reference started one ulp of max(|w|, 1)
#: away (every initial weight nudged up by the size of error the fast exp, tanh
#: and FMAs make in O(1) values) stays this close to it, and its effective step
#: lr / (1 - momentum) is at most MAX_STEP: beyond, oscillating trajectories
#: (float32, lr 25 with momentum 0.9) amplify per-operation rounding that the
#: one nudge at the start leaves alone.
SENSITIVITY = {"float64": 1e-12, "float32": 1e-5}
MAX_STEP = 2.0


def _rng(*keys) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(keys).encode()))


def _general_only(recipe: Recipe) -> bool:
    """Recipes the generated kernels do not implement (they refuse them)."""
    return recipe.update == "shuffled"


@functools.cache
def _case(name: str, dtype_name: str):
    """One randomised case per recipe and dtype (the shape per recipe only)."""
    recipe = RECIPES[name]
    shape_rng = _rng("shape", name)
    X, Y = get_task(TASKS[name])
    # Online updates generate code per sample: keep their kernels small to compile.
    most = 1 if recipe.update == "online" else 4
    widths = [w for w in range(1, most + 1) if _general_only(recipe) or tiled.fits(X, Y, w, recipe)]
    width = int(shape_rng.choice(widths))
    rng = _rng(name, dtype_name)
    batch = int(rng.choice([1, 7, 33]))  # 33: two blocks of the generated kernel
    seeds = rng.integers(0, 2**31, size=batch)
    lr = 10 ** rng.uniform(-2, np.log10(30), size=batch)  # chaotic ones too
    lr[0] = rng.uniform(0.05, 0.2)
    if batch > 2:
        lr[1] = np.inf  # drives its network to non-finite weights: diverged
    span = recipe.targets[1] - recipe.targets[0]
    # Quickprop's jumps divide by differences of slopes: a rounding difference
    # (FMA) grows by orders of magnitude within tens of epochs, so fast
    # arithmetic is compared over a few (exact arithmetic is equal at any length).
    longest = 5 if recipe.optimizer == "quickprop" else 150
    run = dict(
        epochs=int(rng.choice([0, int(rng.integers(1, longest))], p=[0.1, 0.9])),
        tol=float(rng.choice([0.05, 0.1, 0.3]) * span),
        curve_every=int(rng.choice([0, 1, 7])),
        early_stop=bool(rng.integers(2)),
        mse_target=[None, float(rng.uniform(0.01, 0.2) * span**2)][int(rng.integers(2))],
        recipe=recipe,
        seeds=seeds,
    )
    low, high = [(0.0, 1.0), (-1.0, 1.0), (-0.5, 0.5)][int(rng.integers(3))]
    params = init_batch(
        seeds, X.shape[1], width, Y.shape[1], low, high, dtype=np.dtype(dtype_name).type
    )
    want = reference.train_batch(
        X, Y, params, lr, exp=libm_exp, tanh=libm_tanh, functions=LIBM, **run
    )
    eps = np.finfo(np.dtype(dtype_name)).eps
    nudged = {k: v + (eps * np.maximum(np.abs(v), 1)).astype(v.dtype) for k, v in params.items()}
    moved = reference.train_batch(
        X, Y, nudged, lr, exp=libm_exp, tanh=libm_tanh, functions=LIBM, **run
    )
    calm = _well_conditioned(want, moved, dtype_name)
    calm = calm[lr[calm] / (1 - recipe.momentum) <= MAX_STEP]
    return X, Y, params, lr, run, want, calm


def _well_conditioned(a, b, dtype_name: str) -> np.ndarray:
    """Networks whose results in ``a`` and ``b`` agree to :data:`SENSITIVITY`."""
    calm = np.ones(a.size, dtype=bool)
    for name in FLOATS:
        x, y = getattr(a, name), getattr(b, name)
        x, y = np.moveaxis(x, -1, 0).reshape(a.size, -1), np.moveaxis(y, -1, 0).reshape(a.size, -1)
        with np.errstate(invalid="ignore"):
            close = np.abs(x - y) <= SENSITIVITY[dtype_name] * np.maximum(np.abs(y), 1.0)
        calm &= close.all(axis=1)
    for name in INTS:
        calm &= getattr(a, name) == getattr(b, name)
    return np.flatnonzero(calm)


def assert_same(got, want, rtol: float, atol: float, networks=slice(None)) -> None:
    for name in INTS:
        np.testing.assert_array_equal(
            getattr(got, name)[networks], getattr(want, name)[networks], err_msg=name
        )
    for name in FLOATS:
        a, b = getattr(got, name)[..., networks], getattr(want, name)[..., networks]
        assert a.dtype == b.dtype, name
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


def _float32_exp(name: str) -> str:
    """The one exp mode float32 runs in for a recipe, alternating between recipes
    (each variant compiles for seconds)."""
    return ("exact", "fast")[list(RECIPES).index(name) % 2]


def _features(recipe: Recipe) -> set[tuple[str, object]]:
    """What a recipe's kernels are made of: its parts, its update, which terms it has."""
    return {
        ("activation", recipe.activation),
        ("output", recipe.output_activation),
        ("loss", recipe.loss),
        ("optimizer", recipe.optimizer),
        ("update", recipe.update),
        ("momentum", recipe.momentum > 0),
        ("decay", recipe.weight_decay > 0),
        ("prime", recipe.prime_offset > 0),
        ("inputs", recipe.inputs),
        ("subnormals", recipe.subnormals),
    }


#: The recipes fast arithmetic and float32 run: every feature of the matrix at
#: least once, not every combination again. ``fast`` and the dtype change only
#: the pieces' numerics (kernels.step), so a piece whose arithmetic is wrong in
#: them shows in any recipe that holds it; float64 exact runs every recipe.
COVERING = (
    "notebook",
    "tanh-out-online-decay-prime",
    "nesterov-decay-prime",
    "adam-elliott",
    "irprop-tanh",
    "quickprop-decay-xent",
    "rprop-decay-flush",
    "arctan-symmetric-atanh-momentum-prime",
    "relu-linear-online-decay",
    "rmsprop-online-decay-tanh",
    "adagrad-shuffled-xent",
    "delta-bar-delta-symmetric-arctan-decay-prime",
)


def test_the_covering_set_holds_every_feature_of_the_matrix():
    def features(names) -> set:
        return set().union(*(_features(RECIPES[name]) for name in names))

    assert features(RECIPES) - features(COVERING) == set()
    # The generated kernel's too: every feature it takes, in a recipe it runs.
    generated = [name for name in RECIPES if not _general_only(RECIPES[name])]
    assert features(generated) - features(n for n in COVERING if n in generated) == set()
    assert {_float32_exp(name) for name in COVERING} == {"exact", "fast"}


def _compiled(kernel: str, dtype: str, exp: str, name: str) -> bool:
    """The variants the matrix compiles. float64: every recipe exact on the
    general kernel, and the covering set fast on both kernels; the generated
    kernel runs fast (the production arithmetic), which the bit-for-bit test
    below holds equal to the general kernel's, so its exact arithmetic equals
    the reference by the general kernel's (the two kernels call the same
    pieces, ``fast`` switching only the numerics; test_tiled compares the
    generated exact kernel with the reference directly on many shapes).
    float32: the covering set, one exp mode per recipe."""
    if name not in COVERING:
        return dtype == "float64" and kernel == "general" and exp == "exact"
    if dtype == "float32":
        return exp == _float32_exp(name)
    return kernel == "general" or exp == "fast"


VARIANTS = [
    (name, kernel, dtype, exp)
    for name, recipe in RECIPES.items()
    for kernel in ("general", "tiled")
    if not (kernel == "tiled" and _general_only(recipe))
    for dtype in ("float64", "float32")
    for exp in ("exact", "fast")
    if _compiled(kernel, dtype, exp, name)
]


@pytest.mark.parametrize("name, kernel, dtype, exp", one_worker(VARIANTS, 0))
def test_every_variant_is_the_reference(name, kernel, dtype, exp):
    X, Y, params, lr, run, want, calm = _case(name, dtype)
    got = train_batch(X, Y, params, lr, exp=exp, kernel=kernel, block=16, **run)
    if exp == "exact":
        assert_same(got, want, rtol=0, atol=0)
        if len(lr) > 2 and run["epochs"] > 0:  # lr = inf: non-finite after one update
            assert got.diverged[1] and not got.diverged[0]
        return
    assert 0 in calm  # its lr is small: the comparison is never empty
    if dtype == "float64":
        assert_same(got, want, FAST_RTOL, FAST_ATOL, calm)
    else:
        assert_same(got, want, FAST32_RTOL, FAST32_ATOL, calm)


@pytest.mark.parametrize(
    "dtype, name",
    one_worker([(dtype, name) for dtype in ("float64", "float32") for name in COVERING], 1),
)
def test_the_generated_kernel_is_the_general_kernel_bit_for_bit(dtype, name):
    X, Y, params, lr, run, _, _ = _case(name, dtype)
    if _general_only(run["recipe"]):
        with pytest.raises(ValueError, match="no tiled kernel"):
            train_batch(X, Y, params, lr, kernel="tiled", **run)
        return
    exp = "fast" if dtype == "float64" else _float32_exp(name)  # the kernels the matrix ran
    general = train_batch(X, Y, params, lr, exp=exp, kernel="general", **run)
    tiled = train_batch(X, Y, params, lr, exp=exp, kernel="tiled", **run)
    assert_same(tiled, general, rtol=0, atol=0)


#: Tasks beyond the generated kernel's reach too (16 and 32 samples, 8 outputs).
GENERAL_TASKS = ("xor", "parity3", "parity4", "parity5", "encoder8", "and")


@pytest.mark.parametrize("case", range(12))
def test_the_general_kernel_on_random_shapes_is_the_reference(case):
    rng = _rng("general", case)
    name = list(RECIPES)[case % len(RECIPES)]
    recipe = RECIPES[name]
    X, Y = get_task(str(rng.choice(GENERAL_TASKS)))
    width = int(rng.integers(1, 9))
    batch = int(rng.choice([1, 2, 5, 9]))
    seeds = rng.integers(0, 2**31, size=batch)
    lr = 10 ** rng.uniform(-2, np.log10(20), size=batch)
    span = recipe.targets[1] - recipe.targets[0]
    run = dict(
        epochs=int(rng.integers(0, 40)),
        tol=0.2 * span,
        curve_every=3,
        recipe=recipe,
        seeds=seeds,
        mse_target=0.05 * span**2,
    )
    # Other topologies in a third of the cases (each compiles a kernel): direct
    # input -> output weights, a second hidden layer, or both.
    shortcuts, width2 = case in (1, 7), {4: 1, 7: 4, 10: 3}.get(case, 0)
    params = init_batch(
        seeds, X.shape[1], width, Y.shape[1], -1.0, 1.0, shortcuts=shortcuts, width2=width2
    )
    got = train_batch(
        X, Y, params, lr, exp="exact", kernel="general", block=int(rng.choice([1, 4, 256])), **run
    )
    want = reference.train_batch(
        X, Y, params, lr, exp=libm_exp, tanh=libm_tanh, functions=LIBM, **run
    )
    assert_same(got, want, rtol=0, atol=0)
    for name in ("w_shortcut", "w_hidden2", "b_hidden2"):
        assert (getattr(want, name) is None) == (getattr(got, name) is None), name
        if getattr(want, name) is not None:
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_momentum_zero_and_decay_zero_are_the_plain_update_bit_for_bit():
    X, Y = get_task("xor")
    params = init_batch(np.arange(40), 2, 3, 1, -1.0, 1.0)
    lr = np.linspace(0.1, 3, 40)
    for exp in ("fast", "exact"):
        plain = train_batch(X, Y, params, lr, 300, curve_every=10, exp=exp)
        zero = train_batch(
            X,
            Y,
            params,
            lr,
            300,
            curve_every=10,
            exp=exp,
            recipe=Recipe(momentum=0.0, weight_decay=0.0),
        )
        assert_same(zero, plain, rtol=0, atol=0)


# --- gradients against central finite differences -----------------------------


def _loss(X, Y, p, recipe: Recipe) -> float:
    """E(theta) + lambda / 2 |w|^2 (weights only), in plain numpy from the definitions."""
    Xc, Yc = recipe.code(X, Y)

    def f(kind, a):
        return {
            "logistic": lambda: 1 / (1 + np.exp(-a)),
            "tanh": lambda: np.tanh(a),
            "arctan": lambda: np.arctan(a),
            "symmetric": lambda: 1 / (1 + np.exp(-a)) - 0.5,
            "relu": lambda: np.maximum(a, 0.0),
            "linear": lambda: a,
        }[kind]()

    hidden = f(recipe.activation, Xc @ p["w_hidden"] + p["b_hidden"])
    if "w_hidden2" in p:
        hidden = f(recipe.activation, hidden @ p["w_hidden2"] + p["b_hidden2"])
    direct = Xc @ p["w_shortcut"] if "w_shortcut" in p else 0.0
    out = f(recipe.output_activation, hidden @ p["w_out"] + direct + p["b_out"])
    if recipe.loss == "xent":
        loss = -np.sum(Yc * np.log(out) + (1 - Yc) * np.log(1 - out))
    elif recipe.loss == "atanh":  # the integral of 2 atanh(e): its gradient is Fahlman's
        e = Yc - out
        loss = np.sum(2 * e * np.arctanh(e) + np.log1p(-e * e))
    else:
        loss = 0.5 * np.sum((Yc - out) ** 2)
    decay = sum(
        np.sum(p[k] ** 2) for k in ("w_hidden", "w_hidden2", "w_out", "w_shortcut") if k in p
    )
    return loss + 0.5 * recipe.weight_decay * decay


GRADIENT_RECIPES = [
    Recipe(
        activation=act,
        output_activation=out,
        loss=loss,
        weight_decay=decay,
        targets=(-1.0, 1.0) if out == "tanh" and loss == "sse" else (0.0, 1.0),
    )
    for act in ("logistic", "tanh")
    for out in ("logistic", "tanh")
    for loss in ("sse", "xent")
    if not (loss == "xent" and out == "tanh")
    for decay in (0.0, 0.01)
] + [
    Recipe(activation="arctan", output_activation="arctan", targets=(-1.0, 1.0)),
    Recipe(activation="symmetric", output_activation="symmetric", targets=(-0.5, 0.5)),
    Recipe(activation="relu", output_activation="linear", targets=(-1.0, 1.0), weight_decay=0.01),
    Recipe(activation="tanh", output_activation="symmetric", loss="atanh", targets=(-0.5, 0.5)),
    Recipe(activation="arctan", loss="atanh"),
]


def _batch(one: dict) -> dict:
    return {
        k: v.reshape(v.shape[1:] if k.startswith("b") else v.shape)[..., None]
        for k, v in one.items()
    }


def _finite_differences(X, Y, one, recipe, h=1e-6):
    grads = {}
    for name in one:
        grad = np.zeros_like(one[name])
        for idx in np.ndindex(one[name].shape):
            plus = {k: v.copy() for k, v in one.items()}
            minus = {k: v.copy() for k, v in one.items()}
            plus[name][idx] += h
            minus[name][idx] -= h
            grad[idx] = (_loss(X, Y, plus, recipe) - _loss(X, Y, minus, recipe)) / (2 * h)
        grads[name] = grad
    return grads


@pytest.mark.parametrize(
    "recipe",
    GRADIENT_RECIPES,
    ids=lambda r: f"{r.activation}-{r.output_activation}-{r.loss}-decay{r.weight_decay}",
)
def test_one_reference_update_is_minus_lr_times_the_gradient(recipe):
    X, Y = get_task("parity3")
    lr = 0.3
    one = init_uniform(5, 3, 4, 1, -1.0, 1.0)
    stepped = reference.train_one(X, Y, one, lr, 1, 0.1, 0, recipe=recipe)
    grads = _finite_differences(X, Y, one, recipe)
    for name in one:
        np.testing.assert_allclose(
            stepped[name] - one[name], -lr * grads[name], rtol=1e-6, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize("name", ["notebook", "tanh-tanh-decay"])
def test_one_kernel_update_is_minus_lr_times_the_gradient(name):
    # Through the compiled kernels themselves (the batch recipes of the matrix).
    recipe = RECIPES[name]
    for task, width, seed in (("xor", 2, 0), ("parity3", 5, 1), ("encoder4", 2, 2)):
        X, Y = get_task(task)
        one = init_uniform(seed, X.shape[1], width, Y.shape[1], -1.0, 1.0)
        stepped = train_batch(X, Y, _batch(one), 0.3, 1, exp="exact", recipe=recipe)
        grads = _finite_differences(X, Y, one, recipe)
        for key in one:
            step = getattr(stepped, key)[..., 0].reshape(one[key].shape) - one[key]
            np.testing.assert_allclose(step, -0.3 * grads[key], rtol=1e-6, atol=1e-9, err_msg=key)


@pytest.mark.parametrize(
    "topology", [dict(shortcuts=True), dict(width2=3), dict(width2=2, shortcuts=True)], ids=str
)
def test_other_topologies_update_by_minus_lr_times_the_gradient(topology):
    # The oracle and the general kernel, with direct input -> output weights
    # and with a second hidden layer; with weight decay, which these layers'
    # weights take too (the activations' slopes are checked above).
    recipe = RECIPES["tanh-tanh-decay"]
    for task, width, seed in (("xor", 1, 0), ("encoder4", 2, 2)):
        X, Y = get_task(task)
        one = init_uniform(seed, X.shape[1], width, Y.shape[1], -1.0, 1.0, **topology)
        grads = _finite_differences(X, Y, one, recipe)
        oracle = reference.train_one(X, Y, one, 0.3, 1, 0.1, 0, recipe=recipe)
        kernel = train_batch(X, Y, _batch(one), 0.3, 1, exp="exact", recipe=recipe)
        for key in one:
            for stepped in (oracle[key], getattr(kernel, key)[..., 0].reshape(one[key].shape)):
                np.testing.assert_allclose(
                    stepped - one[key], -0.3 * grads[key], rtol=1e-6, atol=1e-9, err_msg=key
                )


@pytest.mark.parametrize("kernel", ["general", "tiled"])
def test_any_recorded_epochs_as_the_reference_records_them(kernel):
    from kernels.model import curve_epochs

    X, Y = get_task("xor")
    params = init_batch(np.arange(5), 2, 2, 1)
    points = curve_epochs(300, 20, "log")
    run = dict(epochs=300, tol=0.1, curve_every=0, curve_points=points, early_stop=True)
    got = train_batch(X, Y, params, np.linspace(0.5, 5, 5), exp="exact", kernel=kernel, **run)
    want = reference.train_batch(X, Y, params, np.linspace(0.5, 5, 5), exp=libm_exp, **run)
    assert got.loss_curve.shape == (len(points), 5)
    assert_same(got, want, rtol=0, atol=0)
