"""Exact combination of chunk statistics (values computed by hand from the contract's formulas)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.evaluate.aggregate import (
    InconsistentAnswers,
    Totals,
    combined_losses,
    combined_shape,
    same_everywhere,
)


def _payload(loss_sum: float, weight_sum: float, count: int, nonzero: int) -> dict[str, object]:
    return {
        "loss_sum": loss_sum,
        "weight_sum": weight_sum,
        "count": count,
        "nonzero_weight_count": nonzero,
    }


def test_every_reduction_from_the_summed_statistics() -> None:
    totals = Totals.of([_payload(1.5, 2.0, 3, 2), _payload(2.5, 6.0, 5, 5)])
    assert totals.all_reductions() == {
        "mean": 4.0 / 8.0,
        "sum": 4.0,
        "sum_over_batch_size": 4.0 / 8,
        "sum_by_nonzero_weights": 4.0 / 7,
    }
    assert totals.reduce("none") is None


def test_sums_are_correctly_rounded_whatever_the_order() -> None:
    # Naive left-to-right addition loses the 1.0 entirely; fsum keeps it.
    totals = Totals.of([_payload(1e16, 1e16, 1, 1), _payload(1.0, 1.0, 1, 1), _payload(-1e16, -1e16, 1, 1)])
    assert totals.loss_sum == 1.0
    assert totals.weight_sum == 1.0
    assert sum([1e16, 1.0, -1e16]) == 0.0


def test_zero_denominators_give_null_but_sum_is_zero() -> None:
    totals = Totals.of([_payload(0.0, 0.0, 0, 0), _payload(0.0, 0.0, 0, 0)])
    assert totals.reduce("sum") == 0.0
    for name in ("mean", "sum_over_batch_size", "sum_by_nonzero_weights"):
        assert totals.reduce(name) is None


def test_zero_weights_keep_count_but_not_nonzero_count() -> None:
    totals = Totals.of([_payload(0.0, 0.0, 4, 0), _payload(3.0, 1.5, 2, 2)])
    assert totals.reduce("mean") == 2.0
    assert totals.reduce("sum_over_batch_size") == 0.5
    assert totals.reduce("sum_by_nonzero_weights") == 1.5
    assert math.isfinite(totals.reduce("mean") or math.nan)


def test_losses_and_shape_are_joined_along_the_example_axis() -> None:
    payloads = [
        {"shape": [2, 3], "losses": [[1, 2, 3], [4, 5, 6]]},
        {"shape": [0, 3], "losses": []},
        {"shape": [1, 3], "losses": [[7, 8, 9]]},
    ]
    assert combined_shape(payloads, single_example=False) == [3, 3]
    joined = combined_losses(payloads, single_example=False)
    np.testing.assert_array_equal(joined, np.arange(1, 10, dtype=np.float64).reshape(3, 3))


def test_answers_that_disagree_are_reported() -> None:
    with pytest.raises(InconsistentAnswers, match="num_classes"):
        same_everywhere([{"num_classes": 3}, {"num_classes": 4}], "num_classes")
