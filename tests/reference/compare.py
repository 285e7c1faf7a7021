"""Assertions that a service response agrees with the reference (no service imports)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from .numpy_reference import Reference, reduce

# The `evaluate` fixture: POST a body to an endpoint, return the 200 response's JSON.
Evaluate = Callable[[str, dict[str, Any]], dict[str, Any]]

HALF_PRECISION = ("float16", "bfloat16", "float32")

# float64 results differ from the reference only by summation order; float32 ones by ~1e-7
# relative per operation, and every term is ≥ 0, so errors never cancel into large relative ones.
TOLERANCE = {"float64": {"rel": 1e-9, "abs": 1e-12}, "float32": {"rel": 1e-5, "abs": 1e-5}}


def expected_precision(body: Mapping[str, Any]) -> str:
    """The contract's default: JSON numbers compute in float64, a Tensor in its (upcast) dtype."""
    if body.get("precision") is not None:
        return str(body["precision"])
    predictions = body.get("logits", body.get("probabilities"))
    if isinstance(predictions, dict) and predictions["dtype"] in HALF_PRECISION:
        return "float32"
    return "float64"


def approx(expected: float | None, precision: str) -> Any:
    return None if expected is None else pytest.approx(expected, **TOLERANCE[precision])


def assert_matches_reference(
    response: Mapping[str, Any], reference: Reference, reduction: str, precision: str
) -> None:
    """Every numeric field of a 200 response equals the reference at `precision`'s tolerance."""
    assert response["reduction"] == reduction
    assert response["precision"] == precision
    assert response["shape"] == reference.shape
    assert response["num_classes"] == reference.num_classes
    assert response["count"] == reference.count
    assert response["nonzero_weight_count"] == reference.nonzero_weight_count
    assert response["weight_sum"] == approx(reference.weight_sum, precision)
    assert response["loss_sum"] == approx(reference.loss_sum, precision)
    assert response["loss"] == approx(reference.loss(reduction), precision)
    if response["loss"] is None and reduction != "none":
        assert response["warnings"], "a zero denominator must come with a warning"
    if "losses" in response:
        assert_losses_match(response["losses"], reference.losses, precision)


def assert_losses_match(losses: Any, expected: np.ndarray, precision: str) -> None:
    """Nested like the per-example shape; exact zeros (ignored / zero weight) stay exact zeros."""
    got = np.asarray(losses, dtype=np.float64)
    if expected.size == 0:  # nested JSON cannot show a shape like (0, 3): the `shape` field does
        assert got.size == 0
        return
    assert got.shape == expected.shape
    assert got == pytest.approx(expected, **TOLERANCE[precision])
    assert np.all(got[expected == 0] == 0)


STATISTICS = ("loss_sum", "weight_sum", "count", "nonzero_weight_count")


def statistics(response: Mapping[str, Any]) -> dict[str, Any]:
    return {name: response[name] for name in STATISTICS}


def assert_combinable(parts: list[Mapping[str, Any]], whole: Mapping[str, Any]) -> None:
    """Statistics of the parts add up to the whole's, and so give the whole's reduced loss."""
    combined = {
        "loss_sum": math.fsum(p["loss_sum"] for p in parts),
        "weight_sum": math.fsum(p["weight_sum"] for p in parts),
        "count": sum(p["count"] for p in parts),
        "nonzero_weight_count": sum(p["nonzero_weight_count"] for p in parts),
    }
    assert combined["count"] == whole["count"]
    assert combined["nonzero_weight_count"] == whole["nonzero_weight_count"]
    for name in ("loss_sum", "weight_sum"):
        assert combined[name] == pytest.approx(whole[name], rel=1e-12, abs=1e-300)
    assert_reduced(whole["loss"], whole["reduction"], combined)


def assert_reduced(loss: float | None, reduction: str, stats: Mapping[str, Any]) -> None:
    """`loss` is what the contract's `reduction` makes of the four statistics."""
    expected = reduce(reduction, **stats)
    assert loss == (None if expected is None else pytest.approx(expected, rel=1e-12))


def assert_published(actual: Any, expected: Any, rel: float) -> None:
    """Compare nested values; a None in a published list means "not published" and is skipped."""
    wanted = np.ravel(np.asarray(expected, dtype=object))
    for got, want in zip(np.ravel(np.asarray(actual, dtype=np.float64)), wanted, strict=True):
        if want is not None:
            assert got == pytest.approx(want, rel=rel, abs=1e-300)
