"""The outcome of a loss evaluation and the reductions that produce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from .errors import LossWarning

Reduction = Literal["mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights", "none"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


@dataclass(frozen=True)
class LossResult:
    """Per-example weighted losses plus the sufficient statistics of every reduction.

    ``losses`` holds the weighted contributions ``w_i·l_i`` (zero where ignored or weighted 0), shaped like
    the per-example shape, in float64; ``loss_sum == losses.sum()``. With ``weight_sum``, ``count`` and
    ``nonzero_weight_count`` any number of results can be combined exactly (see :func:`reduce_statistics`).
    """

    loss: float | None
    reduction: Reduction
    losses: np.ndarray
    num_classes: int
    count: int
    weight_sum: float
    nonzero_weight_count: int
    loss_sum: float
    precision: str
    warnings: list[LossWarning] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.losses.shape)


def reduce_statistics(
    reduction: Reduction,
    *,
    loss_sum: float,
    weight_sum: float,
    count: int,
    nonzero_weight_count: int,
) -> float | None:
    """The reduced loss from the statistics, ``None`` where the denominator is zero (or reduction 'none').

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
    if reduction == "sum":
        return float(loss_sum)
    denominator = {
        "mean": weight_sum,
        "sum_over_batch_size": count,
        "sum_by_nonzero_weights": nonzero_weight_count,
    }[reduction]
    return None if denominator == 0 else float(loss_sum / denominator)
