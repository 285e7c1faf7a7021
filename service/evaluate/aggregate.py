"""Exact combination of chunk answers from their statistics (loss_sum, weight_sum, count, ...)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.evaluate.data import Array
from service.losses import REDUCTIONS, STATISTICS, Statistics, reduce_statistics
from service.losses.result import StatisticsView


class InconsistentAnswers(ValueError):
    """Chunks were answered differently (e.g. replicas with different versions)."""


@dataclass(frozen=True)
class Totals(StatisticsView):
    """Every statistic summed over the chunks, by name."""

    statistics: Statistics

    @classmethod
    def of(cls, payloads: Sequence[dict[str, Any]]) -> Totals:
        return cls({name: _total([p[name] for p in payloads]) for name in STATISTICS})

    def reduce(self, reduction: str) -> float | None:
        """The contract's reductions, by the core's own definition; a zero denominator gives None."""
        return reduce_statistics(reduction, self.statistics)

    def all_reductions(self) -> dict[str, float | None]:
        return {name: self.reduce(name) for name in REDUCTIONS if name != "none"}


def _total(values: list[Any]) -> Any:
    """Counts add as integers; sums with fsum, so the total is correctly rounded whatever the chunking."""
    if all(isinstance(v, int) for v in values):
        return sum(values)
    return math.fsum(values)


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
