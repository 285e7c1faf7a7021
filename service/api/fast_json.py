"""The fast paths for large bodies.

Nested numbers: parsing JSON numbers into Python floats and then into NumPy costs ~100 ns per number;
simdjson writes them into a float64 or int64 buffer directly (~35 ns). The same holds for each V2
input's JSON ``data`` (``parse_v2_header``: 1024x1000 logits in 49 ms rather than 137 ms).

Tensors: a JSON parser copies a base64 string at least twice (its buffers, then a Python ``str``); cut out
of the body instead, it is decoded straight from the request's own bytes — less than half the memory, and
no parsing of megabytes of text.

Only what is plainly well-formed takes these paths — rectangular arrays of plain JSON numbers (simdjson
flattens ``[0, [1], 2]`` as readily as ``[0, 1, 2]``, so the ``[`` of the text are counted against the
arrays the shapes need), Tensors
whose data has no escapes, every other field a plain value validated by the same Pydantic model — and
anything else returns ``None``: the body then takes the general path (``model_validate_json`` on the raw
bytes), which gives the precise problem. Both paths therefore agree on every body these accept.
"""

from __future__ import annotations

import math
import mmap
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import simdjson
from pydantic import BaseModel, ValidationError

from . import json_slices
from .body import Body, count_byte
from .decoding import ArrayKind, SplicedTensor, check_size
from .schemas import NESTED_MAX_RANK, FamilyRequest, Tensor

# Below this size the general path takes microseconds too, and stays the one small requests use.
FAST_PATH_MIN_BYTES = 16 * 1024
# Numeric bodies this large have their big arrays parsed in runs of about SLICE_BYTES (~1 ms each).
SLICED_MIN_BYTES = 4 * 1024 * 1024
SLICE_BYTES = 1024 * 1024
# Base64 strings at least this long are cut out of the body rather than parsed.
SPLICE_MIN_BYTES = 64 * 1024
SAMPLE_WINDOWS, SAMPLE_BYTES = 32, 64
_local = threading.local()
M = TypeVar("M", bound=BaseModel)


Decoded = dict[str, np.ndarray | SplicedTensor]
# The integer-ness of each bulk array field (the ones worth a fast path), by name.
Bulk = dict[str, bool]


def parse(
    body: Body, model: type[FamilyRequest], arrays: Mapping[str, ArrayKind]
) -> tuple[FamilyRequest, Decoded] | None:
    """The validated request and its large arrays, decoded or cut out, or ``None`` for the general path."""
    if len(body) < FAST_PATH_MIN_BYTES:
        return None
    bulk = {name: kind.integer for name, kind in arrays.items() if kind.bulk}
    if _mostly_text(body):
        spliced = _splice_tensor_data(body)
        if spliced is not None:
            return _with_spliced(*spliced, model, bulk)
    elif len(body) >= SLICED_MIN_BYTES:
        sliced = _parse_sliced(body, model, bulk)
        if sliced is not None:
            return sliced
    return _parse_numeric(body, model, bulk)


def _mostly_text(body: Body) -> bool:
    """Whether the body is mostly long strings (Tensors) rather than numbers, judged from a few windows:
    base64 has no commas, nested numbers have one every few bytes. Searching a numeric body for Tensor
    keys would cost a pass over all of it."""
    step = max(1, len(body) // SAMPLE_WINDOWS)
    commas = sum(body[at : at + SAMPLE_BYTES].count(b",") for at in range(0, len(body), step))
    return commas < SAMPLE_WINDOWS // 2


def _splice_tensor_data(body: Body) -> tuple[bytes, dict[str, memoryview]] | None:
    """The body with each long ``"data": "<base64>"`` value replaced by a placeholder, and the cut text.

    A match counts only at a key's position (after ``{``, ``,`` or whitespace) with no backslash in the
    value, so it is a real key and the next quote really ends the string; whether the key belongs to a
    Tensor is decided after parsing, by which placeholders the Tensors hold."""
    view = memoryview(body)
    pieces: list[bytes | memoryview] = []
    cut: dict[str, memoryview] = {}
    done = search = 0
    while (found := json_slices.find_value(body, b'"data"', search)) is not None:
        at, search = found
        if body[at : at + 1] != b'"':
            continue
        start = at + 1
        end = body.find(b'"', start)
        if end < 0:
            return None
        search = end + 1
        if end - start < SPLICE_MIN_BYTES or body.find(b"\\", start, end) >= 0:
            continue
        placeholder = f"@spliced-{len(cut)}@"  # '@' is not base64, so no real data equals it
        pieces += [view[done:start], placeholder.encode()]
        cut[placeholder] = view[start:end]
        done = end
    if not cut:
        return None
    pieces.append(view[done:])
    return b"".join(pieces), cut


def _with_spliced(
    remainder: bytes, cut: dict[str, memoryview], model: type[FamilyRequest], bulk: Bulk
) -> tuple[FamilyRequest, Decoded] | None:
    """Parse what is left of the body and hand each Tensor its cut-out data; every piece must find one."""
    parsed = None
    if len(remainder) >= FAST_PATH_MIN_BYTES:
        parsed = _parse_numeric(remainder, model, bulk)
    if parsed is None:
        try:
            parsed = model.model_validate_json(remainder), {}
        except ValidationError:
            return None  # the general path will say what is wrong with the original body
    request, arrays = parsed
    for name in bulk:
        value = getattr(request, name, None)
        if isinstance(value, Tensor) and value.data in cut:
            arrays[name] = SplicedTensor(value, cut.pop(value.data))
    return None if cut else (request, arrays)


def _parse_sliced(body: Body, model: type[FamilyRequest], bulk: Bulk) -> tuple[FamilyRequest, Decoded] | None:
    """The large arrays parsed a run at a time, so the GIL changes hands between runs, and the rest of
    the body, with a placeholder string where each of them stood, parsed as usual."""
    spans = json_slices.large_arrays(body, bulk, min_bytes=SLICE_BYTES, run_bytes=SLICE_BYTES)
    if not spans:
        return None
    view = memoryview(body)
    presliced: dict[str, np.ndarray] = {}
    pieces: list[bytes | memoryview] = []
    done = 0
    for name, span in sorted(spans.items(), key=lambda item: item[1].start):
        array = _array_from_runs(view, span.runs, integer=bulk[name])
        if array is None:
            return None
        presliced[name] = array
        pieces += [view[done : span.start], f'"{_placeholder(name)}"'.encode()]
        done = span.end + 1
    pieces.append(view[done:])
    return _parse_numeric(b"".join(pieces), model, bulk, presliced=presliced)


def _placeholder(name: str) -> str:
    return f"@sliced-{name}@"  # a string stands where an array of numbers did: no real array equals it


def _array_from_runs(view: memoryview, runs: list[tuple[int, int]], *, integer: bool) -> np.ndarray | None:
    """The array whose top-level elements are the runs' text, each run parsed on its own."""
    parts: list[np.ndarray] = []
    for start, stop in runs:
        text = b"".join((b"[", view[start:stop], b"]"))
        document = _parse_document(text)
        part = _numeric_array(document, integer=integer) if isinstance(document, simdjson.Array) else None
        del document  # the parser is reused for the next run only once no proxy into it is left
        if part is None or (parts and part.shape[1:] != parts[0].shape[1:]):
            return None
        if count_byte(text, b"[") != _brackets_of_shape(part.shape):
            return None  # an array nested where a number belongs, flattened by simdjson
        parts.append(part)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _parse_numeric(
    body: Body,
    model: type[FamilyRequest],
    bulk: Bulk,
    *,
    presliced: dict[str, np.ndarray] | None = None,
) -> tuple[FamilyRequest, Decoded] | None:
    """simdjson's parse with nested numeric arrays straight into NumPy; ``presliced`` arrays stand in for
    their placeholders, each of which must be found as the value of its own top-level key."""
    presliced = dict(presliced or {})
    document = _parse_document(body)
    if document is None:
        return None
    if not isinstance(document, simdjson.Object):
        return None
    if _repeats_a_key(document):  # leave the choice of value to the general path
        return None
    arrays: Decoded = {}
    plain: dict[str, Any] = {}
    value = None
    brackets = 0  # how many '[' the body's text needs for what was parsed
    for key in document:
        value = document[key]
        brackets += key.count("[")
        if key in presliced and value == _placeholder(key):
            arrays[key] = presliced.pop(key)
            plain[key] = []
        elif key in bulk and isinstance(value, simdjson.Array):
            array = _numeric_array(value, integer=bulk[key])
            if array is None:
                return None
            arrays[key] = array
            plain[key] = []  # validated as a (trivially valid) array; the data is in `arrays`
            brackets += _brackets_of_shape(array.shape)
        else:
            plain[key] = _plain(value)
            brackets += _brackets_of_value(plain[key])
    del document, value  # the thread's parser may only be reused once no proxy into it is left
    if presliced:
        return None  # a placeholder stood somewhere else than under its own key
    if count_byte(body, b"[") != brackets:
        return None  # an array nested where a number belongs, which simdjson's buffer flattened
    try:
        return model.model_validate(plain, strict=True), arrays
    except ValidationError:
        return None


# V2 inputs whose JSON ``data`` simdjson reads straight into NumPy, with the buffer type for each.
_V2_BUFFER_TYPES = {"FP16": False, "BF16": False, "FP32": False, "FP64": False, "INT32": True, "INT64": True}
# Integers beyond this are not all exact in float64: simdjson's int → double → float32 could round twice.
_EXACT = 2.0**53


def parse_v2_header(
    text: memoryview, model: type[M], *, max_elements: int
) -> tuple[M, dict[int, np.ndarray]] | None:
    """A V2 inference request header with each input's numeric JSON ``data`` read into NumPy (by input
    position; the validated header holds ``[]`` in its place), or ``None`` for the general path.

    413 for data of more than ``max_elements`` numbers, counted from the parsed structure before any
    number is read."""
    if len(text) < FAST_PATH_MIN_BYTES:
        return None
    document = _parse_document(text)
    if not isinstance(document, simdjson.Object) or _repeats_a_key(document):
        return None
    plain: dict[str, Any] = {}
    decoded: dict[int, np.ndarray] = {}
    brackets = 0  # the '[' of the arrays read into NumPy, beyond the [] standing for each
    value = entry = data = None
    for key in document:
        value = document[key]
        if key != "inputs" or not isinstance(value, simdjson.Array):
            plain[key] = _plain(value)
            continue
        plain[key] = []
        for position, entry in enumerate(value):
            if not isinstance(entry, simdjson.Object) or _repeats_a_key(entry):
                return None
            fields = {name: _plain(entry[name]) for name in entry if name != "data"}
            data = entry.get("data")
            integer = _V2_BUFFER_TYPES.get(fields.get("datatype"))  # type: ignore[arg-type]
            shape = _rectangular_shape(data) if isinstance(data, simdjson.Array) else None
            if shape is not None and integer is not None:
                where = f"/inputs/{position}/data"
                check_size(math.prod(shape), str(fields.get("name"))[:40], max_elements, where=where)
                array = _read_numbers(data, shape, integer=integer)
                if array is None or not array.size or (not integer and np.abs(array).max() >= _EXACT):
                    return None  # empty data's dtype, and huge integers' rounding, are the general path's
                decoded[position] = array
                fields["data"] = []
                brackets += _brackets_of_shape(array.shape) - 1
            elif "data" in entry:
                fields["data"] = _plain(data)
            plain[key].append(fields)
    del document, value, entry, data  # the thread's parser is reused only once no proxy is left
    if count_byte(text, b"[") != brackets + _brackets_of_value(plain):
        return None  # an array nested where a number belongs, which simdjson's buffer flattened
    try:
        return model.model_validate(plain), decoded
    except ValidationError:
        return None  # the general path says what is wrong


def _repeats_a_key(value: Any) -> bool:
    keys = list(value.keys())
    return len(set(keys)) != len(keys)


def _plain(value: Any) -> Any:
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value.as_dict() if isinstance(value, simdjson.Object) else value


def _parse_document(body: Body | memoryview) -> Any:
    """The parsed document, from this thread's parser (reusing its buffers saves page faults on every
    large body); ``None`` for what simdjson does not accept (NaN literals, big integers, bad JSON)."""
    for attempt in range(2):
        parser = getattr(_local, "parser", None)
        if parser is None or attempt:
            parser = _local.parser = simdjson.Parser()
        try:
            return parser.parse(memoryview(body) if isinstance(body, mmap.mmap) else body)
        except RuntimeError:  # big integers, or proxies of an earlier document still alive: fresh parser
            continue
        except (ValueError, TypeError):
            return None
    return None


def _numeric_array(value: Any, *, integer: bool) -> np.ndarray | None:
    shape = _rectangular_shape(value)
    return None if shape is None else _read_numbers(value, shape, integer=integer)


def _read_numbers(value: Any, shape: tuple[int, ...], *, integer: bool) -> np.ndarray | None:
    try:
        flat = np.frombuffer(
            value.as_buffer(of_type="i" if integer else "d"), dtype=np.int64 if integer else np.float64
        )
    except (TypeError, ValueError):  # a non-number, a float where an integer belongs, an overflow
        return None
    if flat.size != math.prod(shape):  # deeper nesting than the first elements showed
        return None
    return flat.reshape(shape)


def _rectangular_shape(value: Any) -> tuple[int, ...] | None:
    """The shape if every sub-array at each depth has the length of the first one, else ``None``."""
    shape = [len(value)]
    probe = value
    while len(probe) and isinstance(probe[0], simdjson.Array):
        probe = probe[0]
        shape.append(len(probe))
    if len(shape) > NESTED_MAX_RANK or not _rows_fit(value, shape, 0):
        return None
    return tuple(shape)


def _rows_fit(node: Any, shape: list[int], depth: int) -> bool:
    """Depth-first, so only one path of proxies is alive at a time, whatever the number of rows."""
    if depth == len(shape) - 1:
        return True  # the numbers themselves: as_buffer checks their type, the size check their nesting
    length = shape[depth + 1]
    if depth == len(shape) - 2:  # the children are the innermost rows: no call per row
        try:
            lengths = [len(child) for child in node]
        except TypeError:  # a number where a row belongs; a string or object fails in as_buffer
            return False
        return lengths.count(length) == len(lengths)
    return all(
        isinstance(child, simdjson.Array) and len(child) == length and _rows_fit(child, shape, depth + 1)
        for child in node
    )


def _brackets_of_shape(shape: tuple[int, ...]) -> int:
    """How many ``[`` a rectangular array of ``shape`` is written with: one per array at each depth."""
    total, arrays = 0, 1
    for length in shape:
        total += arrays
        arrays *= length
    return total


def _brackets_of_value(value: Any) -> int:
    """How many ``[`` a plain JSON value is written with (strings may hold some too)."""
    if isinstance(value, str):
        return value.count("[")
    if isinstance(value, list):
        return 1 + sum(_brackets_of_value(item) for item in value)
    if isinstance(value, dict):
        return sum(key.count("[") + _brackets_of_value(item) for key, item in value.items())
    return 0
