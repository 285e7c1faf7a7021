"""A ``LossResult`` as V2 output tensors, generated from the core's names: the loss, the per-example
losses, every statistic of ``STATISTICS`` and, for each metric in the result, ``metric.<name>`` and its
statistics as ``metric.<name>.<statistic>``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, get_type_hints

import numpy as np

from ...losses import STATISTICS, LossResult
from ...losses.result import StatisticsView
from ..problems import ProblemError, item
from .datatypes import DATATYPE_OF

METRIC_PREFIX = "metric."
# Outputs every model has (metrics come on top, when asked for).
FIXED_OUTPUTS = ("loss", "losses", *STATISTICS)


class Tensor(NamedTuple):
    name: str
    datatype: str
    array: np.ndarray


def _typed_datatype(name: str) -> str:
    """INT64 for the statistics the core types as counts, FP64 for the sums."""
    view = getattr(StatisticsView, name, None)
    hints = get_type_hints(view.fget) if isinstance(view, property) else {}
    return "INT64" if hints.get("return") is int else "FP64"


STATISTIC_DATATYPES: dict[str, str] = {name: _typed_datatype(name) for name in STATISTICS}


def _scalar(name: str, value: Any, datatype: str | None = None) -> Tensor:
    if datatype is None:
        datatype = "INT64" if isinstance(value, int | np.integer) and not isinstance(value, bool) else "FP64"
    return Tensor(name, datatype, np.array([value], dtype=np.int64 if datatype == "INT64" else np.float64))


def tensors(result: LossResult, *, per_example: bool) -> Iterator[Tensor]:
    """Every output that has a value: a null loss (or metric value) is left out."""
    if result.loss is not None:
        yield _scalar("loss", result.loss, "FP64")
    if per_example:
        losses = np.asarray(result.losses, dtype=np.dtype(result.precision))
        yield Tensor("losses", DATATYPE_OF[result.precision], losses)
    for name in STATISTICS:
        yield _scalar(name, result.statistics[name], STATISTIC_DATATYPES[name])
    for metric, outcome in result.metrics.items():
        prefix = METRIC_PREFIX + metric
        if outcome.value is not None:
            yield _scalar(prefix, outcome.value, "FP64")
        for statistic, value in outcome.statistics.items():
            name = f"{prefix}.{statistic}"
            if isinstance(value, np.ndarray):
                yield Tensor(name, "FP64", value.astype(np.float64, copy=False))
            else:
                yield _scalar(name, value)


def check_requested(names: Sequence[str]) -> None:
    """An output no model could have is an error; one that merely has no value here is left out."""
    for position, name in enumerate(names):
        if name not in FIXED_OUTPUTS and not name.startswith(METRIC_PREFIX):
            message = (
                f"there is no output {name[:40]!r}; the outputs are {', '.join(FIXED_OUTPUTS)} and "
                f"{METRIC_PREFIX}<name>[.<statistic>] for each metric asked for"
            )
            raise ProblemError(
                "invalid_field", message, errors=[item("invalid_field", f"/outputs/{position}/name", message)]
            )
