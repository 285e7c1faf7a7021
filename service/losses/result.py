"""The outcome of a loss evaluation and the reductions that produce it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from .errors import Issue, LossInputError, LossWarning

Reduction = Literal["mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights", "none"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)
# The sufficient statistics of every reduction, by name: sums, so results combine by adding them.
STATISTICS: tuple[str, ...] = ("count", "weight_sum", "nonzero_weight_count", "loss_sum")
Statistics = Mapping[str, float]


class StatisticsView:
    """The statistics by attribute, for whatever holds a ``statistics`` mapping."""

    statistics: Statistics

    @property
    def loss_sum(self) -> float:
        return float(self.statistics["loss_sum"])

    @property
    def weight_sum(self) -> float:
        return float(self.statistics["weight_sum"])

    @property
    def count(self) -> int:
        return int(self.statistics["count"])

    @property
    def nonzero_weight_count(self) -> int:
        return int(self.statistics["nonzero_weight_count"])


@dataclass(frozen=True)
class MetricResult:
    """A metric's value (``None`` where its total is 0, or it overflows) and its sufficient statistics:
    sums by name — numbers, or 1-D arrays for per-bin sums — that combine across requests by adding."""

    value: float | None
    statistics: Mapping[str, float | np.ndarray]


@dataclass(frozen=True)
class LossResult(StatisticsView):
    """Per-example weighted losses plus the sufficient statistics of every reduction.

    ``losses`` holds the weighted contributions ``w_i·l_i`` (zero where ignored or weighted 0), shaped like
    the per-example shape, in float64; ``statistics`` maps each name of :data:`STATISTICS` to its sum
    (``loss_sum == losses.sum()``), so any number of results combine exactly by adding them (see
    :func:`reduce_statistics`).
    """

    loss: float | None
    reduction: Reduction
    losses: np.ndarray
    num_classes: int
    statistics: Statistics
    precision: str
    warnings: list[LossWarning] = field(default_factory=list)
    metrics: Mapping[str, MetricResult] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.losses.shape)


def reduce_statistics(reduction: str, statistics: Statistics) -> float | None:
    """The reduced loss from the statistics, ``None`` where the denominator is zero (or reduction 'none').

    The one place the reductions are defined: the core, the service and the evaluator (on statistics
    summed over many requests) all call it.

    ============================  ==========================================  ===========================
    reduction                     value                                       library names
    ============================  ==========================================  ===========================
    ``mean``                      ``Σ w_i l_i / Σ w_i``                       torch ``'mean'``, TF v1 MEAN
    ``sum``                       ``Σ w_i l_i``                               ``sum`` everywhere
    ``sum_over_batch_size``       ``Σ w_i l_i / #counted``                    Keras default
    ``sum_by_nonzero_weights``    ``Σ w_i l_i / #{counted i: w_i ≠ 0}``       TF v1 default
    ``none``                      no reduced value                            ``'none'``
    ============================  ==========================================  ===========================
    """
    if reduction == "none":
        return None
    loss_sum = statistics["loss_sum"]
    if reduction == "sum":
        return float(loss_sum)
    denominator = statistics[DENOMINATORS[reduction]]
    return None if denominator == 0 else float(loss_sum / denominator)


# The statistic each averaging reduction divides ``loss_sum`` by.
DENOMINATORS: dict[str, str] = {
    "mean": "weight_sum",
    "sum_over_batch_size": "count",
    "sum_by_nonzero_weights": "nonzero_weight_count",
}


def assemble_result(
    contribution: np.ndarray,
    weight: np.ndarray,
    counted: np.ndarray,
    *,
    example_shape: tuple[int, ...],
    num_classes: int,
    field: str,
    precision: str,
    reduction: Reduction,
    warnings: list[LossWarning],
) -> LossResult:
    """A family's result from its per-example contributions ``W_i·l_i``, effective weights ``W_i`` and
    counted mask (all flat, float64): the statistics, the reduced loss and the batch-level warnings.
    ``field`` names the predictions for an overflow error."""
    loss_sum = float(contribution.sum())
    weight_sum = float(weight.sum())
    if not np.isfinite(weight_sum):
        raise LossInputError(
            "invalid_weight",
            "the sample weights are so large that their sum overflows float64",
            issues=[Issue("invalid_weight", "sample_weight", "Σ weights overflows float64")],
        )
    if not np.isfinite(loss_sum):
        raise LossInputError(
            "non_finite_value",
            "the weighted losses are so large that their sum overflows float64",
            issues=[Issue("non_finite_value", field, "Σ w_i·l_i overflows float64")],
            hint="scale the sample weights down; every reduction except 'sum' is unchanged by that",
        )
    count = int(np.count_nonzero(counted))
    statistics: dict[str, float] = {
        "loss_sum": loss_sum,
        "weight_sum": weight_sum,
        "count": count,
        "nonzero_weight_count": int(np.count_nonzero(counted & (weight != 0))),
    }
    loss = reduce_statistics(reduction, statistics)
    if count == 0:
        warnings.append(
            LossWarning(
                "empty_batch",
                "no example counted (the batch is empty or every label is ignored): the loss is null, "
                "except 0.0 for 'sum'",
                field="labels",
            )
        )
    elif loss is None and reduction != "none":
        warnings.append(
            LossWarning(
                "zero_denominator",
                f"the denominator of reduction {reduction!r} is 0, so the loss is null (not NaN, not 0); "
                "loss_sum, weight_sum and count are still exact",
            )
        )
    return LossResult(
        loss=loss,
        reduction=reduction,
        losses=contribution.reshape(example_shape),
        num_classes=num_classes,
        statistics=statistics,
        precision=precision,
        warnings=warnings,
    )
