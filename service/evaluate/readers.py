"""Datasets where they live: Parquet, Arrow IPC (Feather), Hugging Face ``save_to_disk`` directories
and ``.safetensors``, read chunk by chunk as :class:`~service.evaluate.data.Source` objects.

Only the chunk being built is in memory (plus, for Arrow data, the record batch it was cut from), so
a file larger than memory is evaluated with memory bounded by the chunk size times the requests in
flight. pyarrow and safetensors come with ``pip install 'loss-service[datasets]'``; a save_to_disk
directory is read with pyarrow alone (its ``.arrow`` files are Arrow IPC streams listed in
``state.json``), so the ``datasets`` package is not needed.
"""

from __future__ import annotations

import copy
import importlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.evaluate.data import (
    LABELS_KEY,
    PREDICTION_KEYS,
    WEIGHT_KEY,
    Array,
    Dataset,
    InputError,
    Mode,
    Source,
    load_dataset,
    mode_of,
    weight_has_example_axis,
)

EXTRA_HINT = "pip install 'loss-service[datasets]'"
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
SAFETENSORS_SUFFIX = ".safetensors"
# Parquet pages are read through a buffer of this size, not a whole column chunk (a row group's
# worth of one column) at a time.
PARQUET_READ_BUFFER = 1 << 20
ARROW_FILE_MAGIC = b"ARROW1"
# Label values per block when reading the labels alone to pick the endpoint.
LABEL_SCAN_VALUES = 1 << 20


class MissingExtra(InputError):
    """A reader needs a package from the ``datasets`` extra."""


@dataclass(frozen=True)
class Names:
    """Columns (or tensors) chosen by ``--logits-column`` etc.; ``None``: the .npz field names."""

    logits: str | None = None
    probabilities: str | None = None
    labels: str | None = None
    weights: str | None = None

    def given(self) -> list[str]:
        flags = {
            "--logits-column": self.logits,
            "--probabilities-column": self.probabilities,
            "--labels-column": self.labels,
            "--weights-column": self.weights,
        }
        return [flag for flag, value in flags.items() if value is not None]


@dataclass(frozen=True)
class Selection:
    """The resolved names: what to read for predictions, labels and (optionally) weights."""

    predictions: str
    probabilities: bool
    labels: str
    weights: str | None

    @property
    def names(self) -> list[str]:
        return [self.predictions, self.labels] + ([self.weights] if self.weights else [])


def open_source(
    path: Path,
    *,
    labels: Path | None = None,
    sample_weight: Path | float | None = None,
    probabilities: bool = False,
    names: Names | None = None,
) -> Source:
    """The reader for ``path``: .npz/.npy/.jsonl are loaded whole (:func:`load_dataset`); Parquet,
    Arrow IPC/Feather, a ``save_to_disk`` directory and .safetensors are read chunk by chunk."""
    names = names or Names()
    suffix = path.suffix.lower()
    streamed = path.is_dir() or suffix in (*PARQUET_SUFFIXES, *ARROW_SUFFIXES, SAFETENSORS_SUFFIX)
    if not streamed:
        if names.given():
            raise InputError(
                f"{', '.join(names.given())}: for Parquet, Arrow, save_to_disk directories and "
                ".safetensors (a .npz/.jsonl names its fields logits|probabilities, labels, sample_weight)"
            )
        return load_dataset(path, labels=labels, sample_weight=sample_weight, probabilities=probabilities)
    if labels is not None:
        raise InputError(f"--labels is only for .npy predictions; for {path.name} use --labels-column")
    if isinstance(sample_weight, Path):
        raise InputError(
            f"--sample-weight takes a number with {path.name}; name a weights column or tensor "
            "with --weights-column"
        )
    if not path.exists():
        raise InputError(f"cannot read {path}: no such file or directory")
    if path.is_dir():
        source: _Streamed = _save_to_disk(path, names, probabilities)
    elif suffix in PARQUET_SUFFIXES:
        source = _parquet(path, names, probabilities)
    elif suffix in ARROW_SUFFIXES:
        source = _ipc_source([path], path.name, names, probabilities)
    else:
        source = SafetensorsSource(path, names, probabilities)
    return source.with_weight(sample_weight)


def _require(module: str, reading: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f"reading {reading} needs {module.split('.')[0]}: {EXTRA_HINT}") from exc


def select(names: Names, available: Sequence[str], probabilities: bool, where: str, noun: str) -> Selection:
    """Resolve the flags against the file's columns/tensors, naming them all when one is missing."""
    if names.logits is not None and names.probabilities is not None:
        raise InputError("give --logits-column or --probabilities-column, not both")
    if names.logits is not None:
        if probabilities:
            raise InputError("--probabilities contradicts --logits-column (use --probabilities-column)")
        predictions, is_probabilities = names.logits, False
    elif names.probabilities is not None:
        predictions, is_probabilities = names.probabilities, True
    else:
        present = [key for key in PREDICTION_KEYS if key in available]
        if len(present) != 1:
            raise InputError(
                f"{where} needs exactly one {noun} 'logits' / 'probabilities', or name one with "
                f"--logits-column / --probabilities-column ({noun}s: {_listing(available)})"
            )
        predictions, is_probabilities = present[0], present[0] == "probabilities"
        if probabilities and not is_probabilities:
            raise InputError(f"--probabilities was given but {where} holds 'logits'")
    weights = names.weights
    if weights is None and WEIGHT_KEY in available:
        weights = WEIGHT_KEY
    selection = Selection(predictions, is_probabilities, names.labels or LABELS_KEY, weights)
    for name in selection.names:
        if name not in available:
            raise InputError(f"{where} has no {noun} {name!r} ({noun}s: {_listing(available)})")
    return selection


def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names) or "none"


class _Streamed(ABC):
    """What the file readers share: layout and normalisation; subclasses read raw row blocks."""

    def __init__(self, where: str, selection: Selection) -> None:
        self.where = where
        self.selection = selection
        self._weight: float | None = None
        self._mode: Mode | None = None  # set on the normalised copy
        self._detected: Mode | None = None

    # Set by subclasses once the file's layout is known.
    num_examples: int
    prediction_shape: tuple[int, ...]
    label_shape: tuple[int, ...]

    @property
    def probabilities(self) -> bool:
        return self.selection.probabilities

    def mode(self) -> Mode:
        """As for a Dataset; labels shaped like the predictions are read once (labels only, chunk by
        chunk) to tell multi-hot (binary) from distributions (categorical); ``--mode`` skips that."""
        if self._detected is None:
            rows = max(1, LABEL_SCAN_VALUES // max(1, math.prod(self.label_shape[1:])))
            self._detected = mode_of(self.prediction_shape, self.label_shape, lambda: self._labels(rows))
        return self._detected

    def with_weight(self, weight: float | None) -> _Streamed:
        if weight is None:
            return self
        if self.selection.weights is not None:
            raise InputError(
                f"sample weights are given twice: {self.selection.weights!r} in {self.where} and "
                "by --sample-weight"
            )
        weighted = copy.copy(self)
        weighted._weight = float(weight)
        return weighted

    def normalised(self, mode: Mode) -> _Streamed:
        normalised = copy.copy(self)
        normalised._mode = mode
        return normalised

    def parts(self, chunk_size: int) -> Iterator[Dataset]:
        for predictions, labels, weight in self._blocks(chunk_size):
            self._check_rows(predictions, self.prediction_shape, self.selection.predictions)
            self._check_rows(labels, self.label_shape, self.selection.labels)
            sample_weight: Array | float | None = self._weight if weight is None else weight
            part = Dataset(predictions, labels, self.probabilities, sample_weight)
            yield part if self._mode is None else part.normalised(self._mode)

    def _check_rows(self, array: Array, shape: tuple[int, ...], name: str) -> None:
        if array.shape[1:] != shape[1:]:
            raise InputError(f"{self.where}: {name!r} has rows of shape {array.shape[1:]} after {shape[1:]}")

    @abstractmethod
    def _blocks(self, chunk_size: int) -> Iterator[tuple[Array, Array, Array | None]]:
        """Consecutive (predictions, labels, weights or None) of ``chunk_size`` rows."""

    @abstractmethod
    def _labels(self, chunk_size: int) -> Iterator[Array]:
        """The labels alone, ``chunk_size`` rows at a time."""


class ArrowSource(_Streamed):
    """Record batches of named columns: Parquet, Arrow IPC file or stream, save_to_disk directories.

    Predictions are columns of lists (or fixed-size lists, nested for more axes) of numbers; labels
    int scalars (sparse) or lists (categorical); weights numbers, or lists for per-position weights.
    A weights column of one number per row on predictions with more axes is a per-row weight
    (sent as ``[n, 1, ...]``).
    """

    def __init__(
        self,
        where: str,
        selection: Selection,
        num_rows: int,
        batches: Callable[[list[str], int], Generator[Any, None, None]],
    ) -> None:
        super().__init__(where, selection)
        self._batches = batches
        self.num_examples = num_rows
        if num_rows == 0:
            raise InputError(f"{where} holds no rows")
        with closing(batches(selection.names, 1)) as head:  # the first row gives the row shapes
            first = next(_rechunk(head, 1))
        predictions, labels, _ = self._arrays(first)
        if predictions.ndim < 2:
            raise InputError(
                f"{where}: {selection.predictions!r} holds one number per row; predictions need a "
                "list of class scores per row"
            )
        self.prediction_shape = (num_rows, *predictions.shape[1:])
        self.label_shape = (num_rows, *labels.shape[1:])

    def _blocks(self, chunk_size: int) -> Iterator[tuple[Array, Array, Array | None]]:
        for table in _rechunk(self._batches(self.selection.names, chunk_size), chunk_size):
            yield self._arrays(table)

    def _labels(self, chunk_size: int) -> Iterator[Array]:
        name = self.selection.labels
        for table in _rechunk(self._batches([name], chunk_size), chunk_size):
            yield self._column(table, name)

    def _column(self, table: Any, name: str) -> Array:
        return _to_numpy(table.column(name).combine_chunks(), f"{self.where}: {name!r}")

    def _arrays(self, table: Any) -> tuple[Array, Array, Array | None]:
        predictions = self._column(table, self.selection.predictions)
        labels = self._column(table, self.selection.labels)
        if self.selection.weights is None:
            return predictions, labels, None
        weight = self._column(table, self.selection.weights)
        missing_axes = predictions.ndim - 1 - weight.ndim
        if missing_axes > 0:  # one weight per row of a sequence: [n] -> [n, 1]
            weight = weight.reshape(weight.shape + (1,) * missing_axes)
        return predictions, labels, weight


def _rechunk(batches: Iterator[Any], chunk_size: int) -> Iterator[Any]:
    """Tables of exactly ``chunk_size`` rows (the last may be shorter) cut from record batches."""
    pa = _require("pyarrow", "Arrow data")
    pending: list[Any] = []
    rows = 0
    for batch in batches:
        while batch.num_rows:
            take = min(chunk_size - rows, batch.num_rows)
            pending.append(batch.slice(0, take))
            rows += take
            batch = batch.slice(take)
            if rows == chunk_size:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
    if rows:
        yield pa.Table.from_batches(pending)


def _to_numpy(array: Any, where: str) -> Array:
    """An Arrow column of numbers, or of equal-length (nested) lists of numbers, as an ndarray."""
    pa = _require("pyarrow", "Arrow data")
    compute = _require("pyarrow.compute", "Arrow data")
    shape = [len(array)]
    values = array
    while True:
        if values.null_count:
            raise InputError(f"{where} has missing (null) values")
        kind = values.type
        if pa.types.is_fixed_size_list(kind):
            width = kind.list_size
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            lengths = compute.list_value_length(values).to_numpy()
            width = int(lengths[0]) if len(lengths) else 0
            if len(lengths) and (lengths != width).any():
                row = int(np.flatnonzero(lengths != width)[0])
                raise InputError(f"{where} has lists of different lengths ({width}, then {lengths[row]})")
        else:
            break
        shape.append(width)
        values = values.flatten()
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise InputError(f"{where} must hold numbers or lists of numbers, found {array.type}")
    return np.asarray(values.to_numpy(zero_copy_only=False)).reshape(shape)


def _parquet(path: Path, names: Names, probabilities: bool) -> ArrowSource:
    parquet = _require("pyarrow.parquet", "Parquet")
    try:
        with parquet.ParquetFile(path) as handle:
            num_rows, available = int(handle.metadata.num_rows), list(handle.schema_arrow.names)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    selection = select(names, available, probabilities, path.name, "column")

    def batches(columns: list[str], size: int) -> Generator[Any, None, None]:
        # Buffered reads: pages, not whole column chunks, and no pre-buffering of row groups.
        with parquet.ParquetFile(path, buffer_size=PARQUET_READ_BUFFER, pre_buffer=False) as handle:
            yield from handle.iter_batches(batch_size=size, columns=columns, use_threads=False)

    return ArrowSource(path.name, selection, num_rows, batches)


def _is_ipc_file(path: Path) -> bool:
    """The IPC file format (Feather v2) starts with ARROW1; the stream format does not."""
    with path.open("rb") as handle:
        return handle.read(len(ARROW_FILE_MAGIC)) == ARROW_FILE_MAGIC


def _ipc_reader(handle: Any, path: Path, fields: list[int] | None = None) -> Any:
    """An IPC file (random access) or stream reader, decoding only ``fields`` (default: all)."""
    pa = _require("pyarrow", "Arrow data")
    options = pa.ipc.IpcReadOptions(included_fields=fields)
    if _is_ipc_file(path):
        return pa.ipc.open_file(handle, options=options)
    return pa.ipc.open_stream(handle, options=options)


def _ipc_batches(
    paths: Sequence[Path], columns: list[str], available: list[str]
) -> Generator[Any, None, None]:
    """Record batches of ``columns``, read (not memory-mapped) one at a time, each freed once used."""
    pa = _require("pyarrow", "Arrow data")
    fields = sorted(available.index(name) for name in columns)
    for path in paths:
        with pa.OSFile(str(path)) as handle:
            reader = _ipc_reader(handle, path, fields)
            for batch in _all_batches(reader):
                yield batch.select(columns)


def _all_batches(reader: Any) -> Iterator[Any]:
    if hasattr(reader, "num_record_batches"):  # the file format
        return (reader.get_batch(i) for i in range(reader.num_record_batches))
    return iter(reader)


def _ipc_source(paths: Sequence[Path], where: str, names: Names, probabilities: bool) -> ArrowSource:
    """Arrow IPC files or streams read in order as one dataset (save_to_disk shards share a schema)."""
    pa = _require("pyarrow", "Arrow data")
    try:
        with pa.memory_map(str(paths[0])) as handle:
            available = list(_ipc_reader(handle, paths[0]).schema.names)
        selection = select(names, available, probabilities, where, "column")
        # Counting decodes only the labels column of each memory-mapped batch, so that a compressed
        # file's data pages are not all paged in (and counted in the resident set) just for this.
        labels = [available.index(selection.labels)]
        rows = 0
        for path in paths:
            with pa.memory_map(str(path)) as handle:
                rows += sum(batch.num_rows for batch in _all_batches(_ipc_reader(handle, path, labels)))
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise InputError(f"cannot read {where} as Arrow IPC: {exc}") from exc
    return ArrowSource(where, selection, rows, lambda columns, _: _ipc_batches(paths, columns, available))


def _save_to_disk(path: Path, names: Names, probabilities: bool) -> ArrowSource:
    """A ``Dataset.save_to_disk`` directory: state.json lists its Arrow IPC stream files in order."""
    if (path / "dataset_dict.json").exists():
        splits = sorted(child.name for child in path.iterdir() if (child / "state.json").exists())
        raise InputError(
            f"{path} is a DatasetDict; point at one split: "
            + ", ".join(str(path / split) for split in splits)
        )
    try:
        state = json.loads((path / "state.json").read_text())
        files = [path / entry["filename"] for entry in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path} is not a directory written by datasets' save_to_disk (state.json: {exc})"
        ) from exc
    return _ipc_source(files, f"{path.name}/", names, probabilities)


class SafetensorsSource(_Streamed):
    """Tensors by name in one .safetensors file, sliced along the first axis with ``get_slice``.

    Rank-1 predictions are a single example. Weights with the example axis are sliced like the
    rest; weights that broadcast over the examples (a scalar, ``[T]``) are read once, sent whole.
    """

    def __init__(self, path: Path, names: Names, probabilities: bool) -> None:
        self._safetensors = _require("safetensors", ".safetensors")
        self._path = path
        try:
            with self._open() as handle:
                shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}  # noqa: SIM118
        except Exception as exc:  # safetensors raises its own SafetensorError for malformed files
            raise InputError(f"cannot read {path}: {exc}") from exc
        super().__init__(path.name, select(names, list(shapes), probabilities, path.name, "tensor"))
        chosen = self.selection
        self.prediction_shape = shapes[chosen.predictions]
        self.label_shape = shapes[chosen.labels]
        rank = len(self.prediction_shape)
        self.num_examples = 1 if rank == 1 else self.prediction_shape[0]
        if rank == 0:
            raise InputError(f"{path.name}: {chosen.predictions!r} is a scalar; predictions need classes")
        if rank >= 2 and self.label_shape[:1] != self.prediction_shape[:1]:
            raise InputError(
                f"{path.name}: {chosen.labels!r} has shape {self.label_shape}, but "
                f"{chosen.predictions!r} has {self.prediction_shape[0]} rows"
            )
        self._whole_weight: Array | None = None
        weight_shape = shapes[chosen.weights] if chosen.weights else None
        self._split_weight = weight_shape is not None and weight_has_example_axis(
            weight_shape, self.prediction_shape
        )
        if weight_shape is not None and not self._split_weight:
            with self._open() as handle:
                self._whole_weight = np.asarray(handle.get_tensor(chosen.weights))

    def _open(self) -> Any:
        return self._safetensors.safe_open(str(self._path), framework="np")

    def _blocks(self, chunk_size: int) -> Iterator[tuple[Array, Array, Array | None]]:
        for rows in self._row_slices(chunk_size):
            yield self._read(rows)

    def _labels(self, chunk_size: int) -> Iterator[Array]:
        for rows in self._row_slices(chunk_size):
            with self._open() as handle:  # a fresh handle per chunk, as in _read
                yield np.asarray(handle.get_slice(self.selection.labels)[rows])

    def _row_slices(self, chunk_size: int) -> Iterator[slice]:
        if len(self.prediction_shape) == 1:  # a single example: never split
            yield slice(None)
            return
        for start in range(0, max(1, self.num_examples), chunk_size):  # empty: one empty part
            yield slice(start, min(start + chunk_size, self.num_examples))

    def _read(self, rows: slice) -> tuple[Array, Array, Array | None]:
        # A fresh handle per chunk: safetensors memory-maps the file, and the pages a slice has
        # read stay resident until the map is closed (one handle for the whole file grew the
        # resident set to the file's size).
        chosen = self.selection
        with self._open() as handle:
            predictions = np.asarray(handle.get_slice(chosen.predictions)[rows])
            labels = np.asarray(handle.get_slice(chosen.labels)[rows])
            if not self._split_weight:
                return predictions, labels, self._whole_weight
            return predictions, labels, np.asarray(handle.get_slice(chosen.weights)[rows])
