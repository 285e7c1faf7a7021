"""Splitting a dataset into chunks along the example axis and building each chunk's request body."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any

import numpy as np
import orjson

from service.evaluate import v2
from service.evaluate.data import Array, Dataset, InputError, Mode
from service.evaluate.encoding import check_json_numbers, to_nested, to_tensor
from service.families import FAMILIES, family_of

# How chunks travel: /v1 JSON bodies (Tensors or nested arrays), or binary V2 requests.
PROTOCOLS = ("v1", "v2")


@dataclass(frozen=True)
class RequestOptions:
    """Body fields other than the arrays; ``None`` leaves a field to the service's default."""

    reduction: str = "mean"
    axis: int | None = None
    class_weight: tuple[float, ...] | None = None
    label_smoothing: float | None = None
    ignore_index: int | None = None
    epsilon: float | None = None
    precision: str | None = None
    per_example: bool = False

    @property
    def wants_losses(self) -> bool:
        return self.per_example or self.reduction == "none"

    def fields(self, mode: Mode) -> dict[str, Any]:
        if self.ignore_index is not None and "ignore_index" not in family_of(mode).request.model_fields:
            takers = [f.short_name for f in FAMILIES if "ignore_index" in f.request.model_fields]
            raise InputError(f"ignore_index does not apply to {mode} labels, only to {' and '.join(takers)}")
        # Chunks always ask for "sum": the requested reduction is computed from the combined
        # statistics, and a per-chunk zero denominator (say, a fully padded chunk) is no warning.
        body: dict[str, Any] = {"reduction": "sum", "per_example": self.wants_losses}
        optional = {
            "axis": self.axis,
            "class_weight": None if self.class_weight is None else list(self.class_weight),
            "label_smoothing": self.label_smoothing,
            "ignore_index": self.ignore_index,
            "epsilon": self.epsilon,
            "precision": self.precision,
        }
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


def auto_chunk_size(dataset: Dataset) -> int:
    """Rows per request when none is given: about AUTO_CHUNK_ELEMENTS prediction values."""
    per_row = int(np.prod(dataset.predictions.shape[1:])) if dataset.predictions.ndim >= 2 else 1
    return max(1, AUTO_CHUNK_ELEMENTS // max(1, per_row))


def row_ranges(num_examples: int, chunk_size: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` ranges; an empty dataset is still one (empty) request."""
    if chunk_size < 1:
        raise InputError("the chunk size must be at least 1")
    if num_examples <= 1:
        return [(0, num_examples)]
    return [(s, min(s + chunk_size, num_examples)) for s in range(0, num_examples, chunk_size)]


def class_axis_check(dataset: Dataset, axis: int | None) -> None:
    """Chunking splits the first axis, so it must be the example axis, not the class axis."""
    ndim = dataset.predictions.ndim
    if ndim >= 2 and axis is not None and axis % ndim == 0:
        raise InputError(
            f"--axis {axis} makes the first axis the class axis; the first axis must hold the "
            "examples (move the class axis, e.g. with np.moveaxis)"
        )


class RequestBuilder:
    """Builds request bodies for row ranges; arrays are sliced lazily, one chunk at a time."""

    def __init__(
        self,
        dataset: Dataset,
        options: RequestOptions,
        mode: Mode,
        *,
        tensors: bool = True,
        protocol: str = "v1",
    ) -> None:
        class_axis_check(dataset, options.axis)
        if not tensors and protocol == "v1":
            # Checked up front so that no request is sent for data that cannot be encoded.
            for name, array in _arrays(dataset).items():
                check_json_numbers(array, name)
        self._data = dataset
        self._family = family_of(mode)
        self._fields = options.fields(mode)
        self._tensors = tensors
        self._protocol = protocol
        self._split_weight = _weight_has_example_axis(dataset)

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        """Validated now; each body is built only when the sender asks for the next chunk."""
        ranges = row_ranges(self._data.num_examples, chunk_size)
        return (
            Chunk(index, start, stop, *self.request(start, stop))
            for index, (start, stop) in enumerate(ranges)
        )

    def request(self, start: int, stop: int) -> tuple[bytes, Mapping[str, str]]:
        """The chunk's body and headers in the builder's protocol."""
        if self._protocol == "v2":
            return v2.encode(self._family, self._fields, self.arrays(start, stop))
        return self.body(start, stop), {"content-type": "application/json"}

    def body(self, start: int, stop: int) -> bytes:
        """The /v1 body of rows ``start:stop``."""
        body: dict[str, Any] = dict(self._fields)
        for name, value in self.arrays(start, stop).items():
            body[name] = value if isinstance(value, float) else self._encode(value)
        return orjson.dumps(body)

    def arrays(self, start: int, stop: int) -> dict[str, Array | float]:
        """The dataset's arrays for rows ``start:stop``, by request field (a scalar weight as is)."""
        data = self._data
        whole = data.predictions.ndim == 1  # a single example: never split
        rows: slice | EllipsisType = ... if whole else slice(start, stop)
        arrays: dict[str, Array | float] = {
            data.prediction_field: data.predictions[rows],
            "labels": data.labels[rows],
        }
        weight = data.sample_weight
        if isinstance(weight, np.ndarray):
            arrays["sample_weight"] = weight[rows] if self._split_weight and not whole else weight
        elif weight is not None:
            arrays["sample_weight"] = weight
        return arrays

    def _encode(self, array: Array) -> Any:
        return to_tensor(array) if self._tensors else to_nested(array)


def _weight_has_example_axis(dataset: Dataset) -> bool:
    """True when the weights carry the example axis (``[N, 1]`` on ``[N, T]``); otherwise they
    broadcast over the examples (a scalar, ``[T]``, ``[1, T]``) and go whole with every chunk."""
    weight = dataset.sample_weight
    per_example_ndim = dataset.predictions.ndim - 1
    return (
        isinstance(weight, np.ndarray)
        and weight.ndim == per_example_ndim
        and weight.ndim >= 1
        and weight.shape[0] == dataset.num_examples
        and weight.shape[0] != 1
    )


def _arrays(dataset: Dataset) -> dict[str, Array]:
    arrays = {dataset.prediction_field: dataset.predictions, "labels": dataset.labels}
    if isinstance(dataset.sample_weight, np.ndarray):
        arrays["sample_weight"] = dataset.sample_weight
    return arrays
