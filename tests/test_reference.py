"""The oracle against the notebook's own code, run verbatim."""

import numpy as np

from kernels import get_task, init_uniform
from kernels.reference import train_one


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
