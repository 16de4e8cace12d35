"""Networks judged on data they were not trained on: a held-out test set.

One forward pass of the general kernel at the final weights (zero epochs of
training), so a test output is computed by the same arithmetic as a training
output.
"""

from __future__ import annotations

import numpy as np

from .model import ALL_PARAMS, BatchResult
from .recipe import Recipe
from .train import train_batch


def held_out(
    X: np.ndarray, Y: np.ndarray, result: BatchResult, recipe: Recipe, exp: str, classes: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each network's MSE on ``(X, Y)`` (against the coded targets, as
    ``final_loss``) at its final weights, and, for a classification task
    (``classes``), its accuracy: the fraction of patterns whose every output is
    on its target's side of the targets' midpoint (None for regression)."""
    params = {name: getattr(result, name) for name in ALL_PARAMS}
    params = {name: array for name, array in params.items() if array is not None}
    seeds = np.zeros(result.size, dtype=np.int64)  # no update, so no order of samples
    forward = train_batch(
        X, Y, params, 0.0, 0, exp=exp, kernel="general", recipe=recipe, seeds=seeds
    )
    if not classes:
        return forward.final_loss, None
    _, coded = recipe.code(X, Y)
    signed = recipe.signs(Y)[:, :, None] * (coded[:, :, None] - forward.outputs)
    right = (signed < recipe.margin).all(axis=1)
    return forward.final_loss, right.mean(axis=0)
