"""Building one request body per chunk of a dataset (chunks are split along the example axis)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from service.evaluate import v2
from service.evaluate.data import (
    Array,
    Dataset,
    InputError,
    Mode,
    Source,
    check_chunk_size,
    row_ranges,
)
from service.evaluate.encoding import check_json_numbers, to_nested, to_tensor
from service.families import FAMILIES, family_of

__all__ = ["PROTOCOLS", "Chunk", "RequestBuilder", "RequestOptions", "auto_chunk_size", "row_ranges"]

# How chunks travel: /v1 JSON bodies (Tensors or nested arrays), or binary V2 requests.
PROTOCOLS = ("v1", "v2")


@dataclass(frozen=True)
class RequestOptions:
    """Body fields other than the arrays; ``None`` leaves a field to the service's default."""

    reduction: str = "mean"
    axis: int | None = None
    class_weight: tuple[float, ...] | None = None
    pos_weight: tuple[float, ...] | None = None
    label_smoothing: float | None = None
    ignore_index: int | None = None
    epsilon: float | None = None
    precision: str | None = None
    per_example: bool = False
    metrics: tuple[str, ...] = ()
    top_k: int | None = None
    calibration_bins: int | None = None
    threshold: float | None = None
    focal_gamma: float | None = None
    focal_alpha: float | None = None

    @property
    def wants_losses(self) -> bool:
        return self.per_example or self.reduction == "none"

    def fields(self, mode: Mode) -> dict[str, Any]:
        # Chunks always ask for "sum": the requested reduction is computed from the combined
        # statistics, and a per-chunk zero denominator (say, a fully padded chunk) is no warning.
        body: dict[str, Any] = {"reduction": "sum", "per_example": self.wants_losses}
        optional = {
            "axis": self.axis,
            "class_weight": None if self.class_weight is None else list(self.class_weight),
            "pos_weight": None if self.pos_weight is None else list(self.pos_weight),
            "label_smoothing": self.label_smoothing,
            "ignore_index": self.ignore_index,
            "epsilon": self.epsilon,
            "precision": self.precision,
            "metrics": list(self.metrics) or None,
            "top_k": self.top_k,
            "calibration_bins": self.calibration_bins,
            "threshold": self.threshold,
            "focal_gamma": self.focal_gamma,
            "focal_alpha": self.focal_alpha,
        }
        for key, value in optional.items():
            if value is not None and key not in family_of(mode).request.model_fields:
                takers = [f.short_name for f in FAMILIES if key in f.request.model_fields]
                raise InputError(f"{key} does not apply to {mode} data, only to {' and '.join(takers)}")
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True)
class Chunk:
    """Rows ``start:stop`` of the dataset, as one serialised request body (and its framing headers)."""

    index: int
    start: int
    stop: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> str:
        return f"rows {self.start}–{self.stop - 1}" if self.stop > self.start else "no rows"


# About 4 MiB of float32 predictions per request: well inside the service's default body
# (64 MiB) and element (2**24) limits, and small enough to keep several requests in flight.
AUTO_CHUNK_ELEMENTS = 2**20


def auto_chunk_size(source: Source) -> int:
    """Rows per request when none is given: about AUTO_CHUNK_ELEMENTS prediction values."""
    shape = source.prediction_shape
    per_row = math.prod(shape[1:]) if len(shape) >= 2 else 1
    return max(1, AUTO_CHUNK_ELEMENTS // max(1, per_row))


def class_axis_check(source: Source, axis: int | None) -> None:
    """Chunking splits the first axis, so it must be the example axis, not the class axis."""
    ndim = len(source.prediction_shape)
    if ndim >= 2 and axis is not None and axis % ndim == 0:
        raise InputError(
            f"--axis {axis} makes the first axis the class axis; the first axis must hold the "
            "examples (move the class axis, e.g. with np.moveaxis)"
        )


class RequestBuilder:
    """Builds one request body per part of the source; parts are read only when a body is due."""

    def __init__(
        self,
        source: Source,
        options: RequestOptions,
        mode: Mode,
        *,
        tensors: bool = True,
        protocol: str = "v1",
    ) -> None:
        class_axis_check(source, options.axis)
        if not tensors and protocol == "v1" and isinstance(source, Dataset):
            # Checked up front, when the data is in memory, so that no request is sent for data
            # that cannot be encoded (a file read in chunks is checked chunk by chunk).
            _check_json_numbers(source)
        self._source = source
        self._family = family_of(mode)
        self._fields = options.fields(mode)
        self._tensors = tensors
        self._protocol = protocol

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        """Validated now; each body is built only when the sender asks for the next chunk."""
        check_chunk_size(chunk_size)
        return self._chunks(chunk_size)

    def _chunks(self, chunk_size: int) -> Iterator[Chunk]:
        start = 0
        for index, part in enumerate(self._source.parts(chunk_size)):
            stop = start + part.num_examples
            yield Chunk(index, start, stop, *self.request(part))
            start = stop

    def request(self, part: Dataset) -> tuple[bytes, Mapping[str, str]]:
        """The part's body and headers in the builder's protocol."""
        if self._protocol == "v2":
            return v2.encode(self._family, self._fields, _arrays(part))
        return self.body(part), {"content-type": "application/json"}

    def body(self, part: Dataset) -> bytes:
        """The /v1 body of one part."""
        if not self._tensors:
            _check_json_numbers(part)
        body: dict[str, Any] = dict(self._fields)
        for name, value in _arrays(part).items():
            body[name] = value if isinstance(value, float) else self._encode(value)
        return orjson.dumps(body)

    def _encode(self, array: Array) -> Any:
        return to_tensor(array) if self._tensors else to_nested(array)


def _arrays(part: Dataset) -> dict[str, Array | float]:
    """A part's arrays by request field (a scalar weight as is)."""
    arrays: dict[str, Array | float] = {part.prediction_field: part.predictions, "labels": part.labels}
    if part.sample_weight is not None:
        arrays["sample_weight"] = part.sample_weight
    return arrays


def _check_json_numbers(dataset: Dataset) -> None:
    for name, array in _arrays(dataset).items():
        if isinstance(array, np.ndarray):
            check_json_numbers(array, name)
