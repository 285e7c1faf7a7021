"""Loading a dataset (predictions, labels, optional sample weights) from .npz, .npy or .jsonl, and
the :class:`Source` interface every dataset the runner evaluates implements (files read in chunks,
Parquet, Arrow and .safetensors, are in :mod:`service.evaluate.readers`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import orjson

from service.families import family_of

# A loss family's short name (``sparse``, ``categorical``, ...): see ``service.families``.
Mode = str
Array = npt.NDArray[Any]

PREDICTION_KEYS = ("logits", "probabilities")
WEIGHT_KEY = "sample_weight"
LABELS_KEY = "labels"


class InputError(ValueError):
    """The input files cannot be turned into a dataset; the message says why."""


class Source(Protocol):
    """A dataset as the runner sees it: its layout is known up front, its rows are read in order,
    one chunk at a time (so a file larger than memory needs only a chunk's worth of it at once)."""

    @property
    def probabilities(self) -> bool: ...

    @property
    def num_examples(self) -> int: ...

    @property
    def prediction_shape(self) -> tuple[int, ...]:
        """The whole predictions' shape, examples first (rank 1: a single example)."""
        ...

    @property
    def label_shape(self) -> tuple[int, ...]: ...

    def mode(self) -> Mode: ...

    def normalised(self, mode: Mode) -> Source:
        """The same rows, with every part cast to dtypes a Tensor can carry for ``mode``."""
        ...

    def parts(self, chunk_size: int) -> Iterator[Dataset]:
        """Consecutive rows, ``chunk_size`` at a time (the last part may be shorter); an empty
        dataset is one empty part and a rank-1 one a single whole part."""
        ...


def mode_of(
    prediction_shape: tuple[int, ...], label_shape: tuple[int, ...], labels: Callable[[], Iterable[Array]]
) -> Mode:
    """The endpoint the data fits: labels shaped like the predictions are distributions
    (categorical), unless they are multi-hot — only 0s and 1s, with some row not summing to 1 —
    which makes them multi-label data (binary); any other shape holds class ids (sparse).
    ``labels`` gives the labels block by block; they are read only when the shapes are equal."""
    if label_shape != prediction_shape:
        return "sparse"
    return "binary" if _multi_hot(labels()) else "categorical"


def check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise InputError("the chunk size must be at least 1")


def row_ranges(num_examples: int, chunk_size: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` ranges; an empty dataset is still one (empty) request."""
    check_chunk_size(chunk_size)
    if num_examples <= 1:
        return [(0, num_examples)]
    return [(s, min(s + chunk_size, num_examples)) for s in range(0, num_examples, chunk_size)]


@dataclass(frozen=True)
class Dataset:
    """Arrays whose first axis is the example axis (a broadcasting sample weight may lack it)."""

    predictions: Array
    labels: Array
    probabilities: bool = False
    sample_weight: Array | float | None = None

    @property
    def prediction_field(self) -> str:
        return "probabilities" if self.probabilities else "logits"

    @property
    def num_examples(self) -> int:
        # Rank-1 predictions are a single example (the contract's convention).
        return 1 if self.predictions.ndim == 1 else int(self.predictions.shape[0])

    @property
    def prediction_shape(self) -> tuple[int, ...]:
        return tuple(self.predictions.shape)

    @property
    def label_shape(self) -> tuple[int, ...]:
        return tuple(self.labels.shape)

    def mode(self) -> Mode:
        """See :func:`mode_of`."""
        return mode_of(self.prediction_shape, self.label_shape, lambda: [self.labels])

    def parts(self, chunk_size: int) -> Iterator[Dataset]:
        """Row slices (views); weights without the example axis go whole with every part."""
        whole = self.predictions.ndim == 1  # a single example: never split
        weight = self.sample_weight
        split = (
            weight
            if isinstance(weight, np.ndarray)
            and not whole
            and weight_has_example_axis(weight.shape, self.prediction_shape)
            else None
        )
        for start, stop in row_ranges(self.num_examples, chunk_size):
            rows: slice | EllipsisType = ... if whole else slice(start, stop)
            part_weight = weight if split is None else split[rows]
            yield Dataset(self.predictions[rows], self.labels[rows], self.probabilities, part_weight)

    def normalised(self, mode: Mode) -> Dataset:
        """Arrays cast to dtypes a Tensor can carry, for the chosen endpoint."""
        integer = family_of(mode).arrays[LABELS_KEY].integer
        labels = _as_labels(self.labels) if integer else _as_float(self.labels, LABELS_KEY)
        weight = self.sample_weight
        if isinstance(weight, np.ndarray):
            weight = _as_float(weight, WEIGHT_KEY)
        predictions = _as_float(self.predictions, self.prediction_field)
        return Dataset(predictions, labels, self.probabilities, weight)


def _multi_hot(blocks: Iterable[Array]) -> bool:
    """Only 0/1 values, and not every row (along the last axis) sums to 1: one-hot rows stay
    categorical. Stops at the first block that rules it out."""
    seen = some_row_not_one = False
    for labels in blocks:
        if labels.size == 0:
            continue
        if labels.dtype.kind not in "iufb":
            return False
        values = labels.astype(np.float64, copy=False)
        if not bool(np.all((values == 0) | (values == 1))):
            return False
        seen = True
        some_row_not_one = some_row_not_one or not bool(np.all(values.sum(axis=-1) == 1))
    return seen and some_row_not_one


def weight_has_example_axis(weight_shape: tuple[int, ...], prediction_shape: tuple[int, ...]) -> bool:
    """True when the weights carry the example axis (``[N, 1]`` on ``[N, T]``); otherwise they
    broadcast over the examples (a scalar, ``[T]``, ``[1, T]``) and go whole with every chunk."""
    return (
        len(weight_shape) == len(prediction_shape) - 1
        and len(weight_shape) >= 1
        and weight_shape[0] == prediction_shape[0]
        and weight_shape[0] != 1
    )


def _as_float(array: Array, name: str) -> Array:
    if array.dtype.kind == "f" and array.dtype.itemsize <= 8:
        return array
    if array.dtype.kind in "iuf":
        return array.astype(np.float64)
    raise InputError(f"{name} must be numeric, found dtype {array.dtype}")


def _as_labels(array: Array) -> Array:
    if array.dtype in (np.int32, np.int64):
        return array
    if array.dtype.kind in "iu":
        if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
            raise InputError("labels do not fit in int64")
        return array.astype(np.int64)
    raise InputError(
        f"sparse labels must be integers, found dtype {array.dtype} "
        "(labels shaped like the predictions are sent to the categorical endpoint)"
    )


def load_dataset(
    path: Path,
    *,
    labels: Path | None = None,
    sample_weight: Path | float | None = None,
    probabilities: bool = False,
) -> Dataset:
    """Read ``path`` (.npz with named arrays, .npy predictions plus a labels .npy, or .jsonl)."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if labels is None:
            raise InputError("a .npy predictions file needs --labels FILE.npy")
        dataset = Dataset(_load_npy(path), _load_npy(labels), probabilities)
    elif labels is not None:
        raise InputError("--labels is only for .npy predictions; .npz and .jsonl carry labels")
    elif suffix == ".npz":
        dataset = _load_npz(path, probabilities)
    elif suffix in (".jsonl", ".ndjson"):
        dataset = _load_jsonl(path, probabilities)
    else:
        raise InputError(f"unsupported input {path.name!r}: expected .npz, .npy or .jsonl")
    return _with_weight(dataset, sample_weight)


def _with_weight(dataset: Dataset, weight: Path | float | None) -> Dataset:
    if weight is None:
        return dataset
    if dataset.sample_weight is not None:
        raise InputError("sample weights are given twice: in the data file and by --sample-weight")
    value: Array | float = _load_npy(weight) if isinstance(weight, Path) else float(weight)
    return Dataset(dataset.predictions, dataset.labels, dataset.probabilities, value)


def _load_npy(path: Path) -> Array:
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _load_npz(path: Path, probabilities: bool) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: np.asarray(archive[name]) for name in archive.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    where = f"{path.name} (arrays: {', '.join(arrays) or 'none'})"
    return _from_fields(arrays, probabilities, where)


def _from_fields(fields: dict[str, Any], probabilities: bool, where: str) -> Dataset:
    present = [key for key in PREDICTION_KEYS if key in fields]
    if len(present) != 1:
        raise InputError(f"{where} needs exactly one of 'logits' / 'probabilities'")
    if probabilities and present[0] == "logits":
        raise InputError(f"--probabilities was given but {where} holds 'logits'")
    if LABELS_KEY not in fields:
        raise InputError(f"{where} has no 'labels'")
    unknown = set(fields) - {*PREDICTION_KEYS, LABELS_KEY, WEIGHT_KEY}
    if unknown:
        raise InputError(f"{where}: unexpected field(s) {', '.join(sorted(unknown))}")
    weight = fields.get(WEIGHT_KEY)
    return Dataset(
        np.asarray(fields[present[0]]),
        np.asarray(fields[LABELS_KEY]),
        present[0] == "probabilities",
        None if weight is None else np.asarray(weight),
    )


def _load_jsonl(path: Path, probabilities: bool) -> Dataset:
    """One example per line: {"logits"|"probabilities": [...], "labels": ..., "sample_weight"?}."""
    rows: list[dict[str, Any]] = []
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row = orjson.loads(line)
                if not isinstance(row, dict):
                    raise InputError(f"{path.name}:{number}: each line must be a JSON object")
                if rows and row.keys() != rows[0].keys():
                    raise InputError(
                        f"{path.name}:{number}: fields {sorted(row)} differ from the first "
                        f"example's {sorted(rows[0])}"
                    )
                rows.append(row)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path.name}: invalid JSON ({exc})") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise InputError(f"{path.name} holds no examples")
    columns: dict[str, Any] = {}
    for key in rows[0]:
        try:
            columns[key] = np.asarray([row[key] for row in rows])
        except ValueError as exc:  # ragged rows
            raise InputError(f"{path.name}: '{key}' has rows of different shapes ({exc})") from exc
        if columns[key].dtype.kind not in "iuf":
            raise InputError(f"{path.name}: '{key}' must hold numbers, found {columns[key].dtype}")
    return _from_fields(columns, probabilities, path.name)
