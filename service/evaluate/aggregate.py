"""Exact combination of chunk answers from loss_sum, weight_sum, count and nonzero_weight_count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.evaluate.data import Array

REDUCTIONS = ("mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights")


class InconsistentAnswers(ValueError):
    """Chunks were answered differently (e.g. replicas with different versions)."""


@dataclass(frozen=True)
class Totals:
    loss_sum: float
    weight_sum: float
    count: int
    nonzero_weight_count: int

    @classmethod
    def of(cls, payloads: Sequence[dict[str, Any]]) -> Totals:
        # fsum: the combined sums are correctly rounded whatever the number of chunks.
        return cls(
            math.fsum(p["loss_sum"] for p in payloads),
            math.fsum(p["weight_sum"] for p in payloads),
            sum(int(p["count"]) for p in payloads),
            sum(int(p["nonzero_weight_count"]) for p in payloads),
        )

    def reduce(self, reduction: str) -> float | None:
        """The contract's reductions; a zero denominator gives None (never NaN, never 0)."""
        if reduction == "sum":
            return self.loss_sum
        denominators: dict[str, float] = {
            "mean": self.weight_sum,
            "sum_over_batch_size": self.count,
            "sum_by_nonzero_weights": self.nonzero_weight_count,
        }
        if reduction not in denominators:
            return None  # "none": per-example only
        denominator = denominators[reduction]
        return self.loss_sum / denominator if denominator != 0 else None

    def all_reductions(self) -> dict[str, float | None]:
        return {name: self.reduce(name) for name in REDUCTIONS}


def same_everywhere(payloads: Sequence[dict[str, Any]], key: str) -> Any:
    """A field every chunk must agree on (num_classes, precision)."""
    values = {repr(p.get(key)) for p in payloads}
    if len(values) > 1:
        raise InconsistentAnswers(f"chunks disagree on {key}: {', '.join(sorted(values))}")
    return payloads[0].get(key)


def combined_shape(payloads: Sequence[dict[str, Any]], single_example: bool) -> list[int]:
    """Per-example shape of the whole dataset: chunk shapes joined along the example axis."""
    first = list(payloads[0]["shape"])
    if single_example or not first:
        return first
    return [sum(int(p["shape"][0]) for p in payloads), *first[1:]]


def combined_losses(payloads: Sequence[dict[str, Any]], single_example: bool) -> Array:
    """Per-example losses of the whole dataset, in row order."""
    if single_example:
        return np.asarray(payloads[0]["losses"], dtype=np.float64)
    shape = combined_shape(payloads, single_example)
    parts = [np.asarray(p["losses"], dtype=np.float64).reshape(p["shape"]) for p in payloads]
    return np.concatenate(parts, axis=0).reshape(shape)
