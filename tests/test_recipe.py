"""The training recipe: validation naming the field, coding of inputs and targets."""

import numpy as np
import pytest

from kernels import get_task
from kernels.recipe import DEFAULT, HEAVY_BALL, NESTEROV, Recipe, RecipeError, Variant

BAD = [
    (dict(momentum=1.0), "momentum"),
    (dict(momentum=-0.1), "momentum"),
    (dict(momentum=float("nan")), "momentum"),
    (dict(weight_decay=-1e-3), "weight_decay"),
    (dict(weight_decay=float("inf")), "weight_decay"),
    (dict(update="minibatch"), "update"),
    (dict(activation="softplus"), "activation"),
    (dict(activation="linear"), "activation"),  # outputs only
    (dict(output_activation="x"), "output_activation"),
    (dict(loss="hinge"), "loss"),
    (dict(inputs="gray"), "inputs"),
    (dict(targets=(1.0, 0.0)), "targets"),
    (dict(targets=(0.5, 0.5)), "targets"),
    (dict(targets=(0.0, float("inf"))), "targets"),
    (dict(loss="xent", output_activation="tanh"), "loss"),
    (dict(loss="xent", output_activation="relu"), "loss"),
    (dict(loss="xent", output_activation="linear", targets=(-1.0, 1.0)), "loss"),
    # Targets the outputs cannot reach.
    (dict(targets=(-1.0, 1.0)), "targets"),
    (dict(loss="xent", targets=(0.0, 1.5)), "targets"),
    (dict(output_activation="symmetric"), "targets"),
    (dict(output_activation="relu", targets=(-1.0, 1.0)), "targets"),
    # Errors atanh cannot take: beyond (-1, 1).
    (dict(loss="atanh", output_activation="tanh", targets=(-1.0, 1.0)), "loss"),
    (dict(loss="atanh", output_activation="linear"), "loss"),
    (dict(loss="atanh", output_activation="relu"), "loss"),
    (dict(optimizer="lbfgs"), "optimizer"),
    (dict(optimizer="nesterov"), "optimizer"),
    (dict(optimizer="adam", momentum=0.9), "optimizer"),
    (dict(beta1=0.5), "beta1"),
    (dict(adam_eps=1e-6, optimizer="nesterov", momentum=0.5), "adam_eps"),
    (dict(optimizer="adam", beta2=1.0), "beta2"),
    (dict(optimizer="adam", adam_eps=0.0), "adam_eps"),
    (dict(optimizer="rprop", update="online"), "optimizer"),
    (dict(optimizer="irprop-", momentum=0.5), "optimizer"),
    (dict(eta_plus=1.1), "eta_plus"),
    (dict(optimizer="rprop", eta_plus=1.0), "eta_plus"),
    (dict(optimizer="irprop-", eta_minus=1.0), "eta_minus"),
    (dict(optimizer="rprop", delta_min=1.0, delta_max=0.5), "delta_max"),
    (dict(optimizer="quickprop", update="shuffled"), "optimizer"),
    (dict(max_factor=2.0), "max_factor"),
    (dict(optimizer="quickprop", max_factor=0.0), "max_factor"),
    (dict(optimizer="rmsprop", momentum=0.5), "optimizer"),
    (dict(rms_decay=0.5), "rms_decay"),  # a setting of another optimiser
    (dict(optimizer="adagrad", rms_eps=1e-6), "rms_eps"),
    (dict(optimizer="rmsprop", rms_decay=1.0), "rms_decay"),
    (dict(optimizer="adagrad", adagrad_eps=0.0), "adagrad_eps"),
    (dict(optimizer="delta-bar-delta", update="online"), "optimizer"),
    (dict(optimizer="delta-bar-delta", dbd_phi=1.0), "dbd_phi"),
    (dict(optimizer="delta-bar-delta", dbd_kappa=-0.1), "dbd_kappa"),
    (dict(prime_offset=-0.1), "prime_offset"),
    (dict(prime_offset=float("nan")), "prime_offset"),
    # Mini-batches: ordered takes a size; batch and online have their own.
    (dict(update="ordered"), "batch_size"),
    (dict(update="ordered", batch_size=-1), "batch_size"),
    (dict(update="ordered", batch_size=2.5), "batch_size"),
    (dict(batch_size=4), "batch_size"),
    (dict(update="online", batch_size=2), "batch_size"),
    (dict(optimizer="rprop", update="ordered", batch_size=2), "optimizer"),
]


def test_samples_per_update():
    counts = [
        Recipe(**fields).samples_per_update(8)
        for fields in (
            {},
            dict(update="online"),
            dict(update="shuffled"),
            dict(update="shuffled", batch_size=3),
            dict(update="ordered", batch_size=3),
            dict(update="ordered", batch_size=20),
        )
    ]
    assert counts == [8, 1, 1, 3, 3, 8]


@pytest.mark.parametrize("fields, field", BAD)
def test_an_invalid_recipe_names_its_field(fields, field):
    with pytest.raises(RecipeError) as info:
        Recipe(**fields)
    assert info.value.field == field and str(info.value).startswith(f"{field}: ")


def test_tol_must_lie_within_the_targets_span():
    Recipe(output_activation="tanh", targets=(-1.0, 1.0)).check_tol(1.5)
    for tol in (0.0, 0.8, 1.0):
        with pytest.raises(RecipeError, match="tol"):
            Recipe(targets=(0.1, 0.9)).check_tol(tol)


def test_the_default_is_the_notebooks_recipe():
    X, Y = get_task("xor")
    Xc, Yc = DEFAULT.code(X, Y)
    np.testing.assert_array_equal(Xc, X)
    np.testing.assert_array_equal(Yc, Y)
    assert DEFAULT.variant == Variant(0, 0, 0, 0, False, False)
    assert DEFAULT.margin == 0.5 and DEFAULT.targets_text == "0:1"


def test_coding_of_inputs_and_targets():
    X, Y = get_task("parity3")
    recipe = Recipe(inputs="bipolar", targets=(0.1, 0.9))
    Xc, Yc = recipe.code(X, Y)
    np.testing.assert_array_equal(Xc, 2 * X - 1)
    np.testing.assert_array_equal(Yc, np.where(Y == 1, 0.9, 0.1))
    np.testing.assert_array_equal(recipe.signs(Y), 2 * Y - 1)
    assert recipe.margin == pytest.approx(0.4) and recipe.targets_text == "0.1:0.9"


def test_the_variant_switches_momentum_and_decay_on_their_values():
    assert Recipe(momentum=0.0, weight_decay=0.0).variant == DEFAULT.variant
    v = Recipe(
        activation="tanh", loss="xent", update="shuffled", momentum=0.5, weight_decay=1e-4
    ).variant
    assert v == Variant(1, 0, 1, 2, HEAVY_BALL, True)
    assert Recipe(momentum=0.9, optimizer="nesterov").variant.momentum == NESTEROV
