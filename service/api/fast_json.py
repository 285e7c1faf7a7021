"""The fast path for large bodies: nested numeric arrays go from JSON text straight into NumPy.

Parsing nested JSON numbers into Python floats and then into NumPy costs ~100 ns per number; simdjson
writes them into a float64 or int64 buffer directly (~35 ns). Only what is plainly well-formed takes this
path — rectangular arrays of plain JSON numbers, every other field a plain value validated by the same
Pydantic model — and anything else returns ``None``: the body then takes the general path
(``model_validate_json`` on the raw bytes), which gives the precise problem. Both paths therefore agree
on every body this one accepts.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import simdjson
from pydantic import ValidationError

from .schemas import CrossEntropyOptions

# Below this size the general path takes microseconds too, and stays the one small requests use.
FAST_PATH_MIN_BYTES = 16 * 1024
ARRAY_FIELDS = ("logits", "probabilities", "labels", "sample_weight")
MAX_RANK = 4
_local = threading.local()


def parse(
    body: bytes | bytearray, model: type[CrossEntropyOptions], *, integer_labels: bool
) -> tuple[CrossEntropyOptions, dict[str, np.ndarray]] | None:
    """The validated request and its nested arrays as NumPy, or ``None`` to take the general path."""
    if len(body) < FAST_PATH_MIN_BYTES:
        return None
    document = _parse_document(body)
    if document is None:
        return None
    if not isinstance(document, simdjson.Object):
        return None
    keys = list(document.keys())
    if len(set(keys)) != len(keys):  # duplicate keys: leave the choice of value to the general path
        return None
    arrays: dict[str, np.ndarray] = {}
    plain: dict[str, Any] = {}
    value = None
    for key in keys:
        value = document[key]
        if key in ARRAY_FIELDS and isinstance(value, simdjson.Array):
            array = _numeric_array(value, integer=integer_labels and key == "labels")
            if array is None:
                return None
            arrays[key] = array
            plain[key] = []  # validated as a (trivially valid) array; the data is in `arrays`
        elif isinstance(value, simdjson.Array | simdjson.Object):
            plain[key] = value.as_list() if isinstance(value, simdjson.Array) else value.as_dict()
        else:
            plain[key] = value
    del document, value  # the thread's parser may only be reused once no proxy into it is left
    try:
        return model.model_validate(plain, strict=True), arrays
    except ValidationError:
        return None


def _parse_document(body: bytes | bytearray) -> Any:
    """The parsed document, from this thread's parser (reusing its buffers saves page faults on every
    large body); ``None`` for what simdjson does not accept (NaN literals, big integers, bad JSON)."""
    for attempt in range(2):
        parser = getattr(_local, "parser", None)
        if parser is None or attempt:
            parser = _local.parser = simdjson.Parser()
        try:
            return parser.parse(body)
        except RuntimeError:  # big integers, or proxies of an earlier document still alive: fresh parser
            continue
        except (ValueError, TypeError):
            return None
    return None


def _numeric_array(value: Any, *, integer: bool) -> np.ndarray | None:
    shape = _rectangular_shape(value)
    if shape is None:
        return None
    try:
        flat = np.frombuffer(
            value.as_buffer(of_type="i" if integer else "d"), dtype=np.int64 if integer else np.float64
        )
    except (TypeError, ValueError):  # a non-number, a float where an integer belongs, an overflow
        return None
    if flat.size != int(np.prod(shape)):  # deeper nesting than the first elements showed
        return None
    return flat.reshape(shape)


def _rectangular_shape(value: Any) -> tuple[int, ...] | None:
    """The shape if every sub-array at each depth has the length of the first one, else ``None``."""
    shape = [len(value)]
    probe = value
    while len(probe) and isinstance(probe[0], simdjson.Array):
        probe = probe[0]
        shape.append(len(probe))
    if len(shape) > MAX_RANK or not _rows_fit(value, shape, 0):
        return None
    return tuple(shape)


def _rows_fit(node: Any, shape: list[int], depth: int) -> bool:
    """Depth-first, so only one path of proxies is alive at a time, whatever the number of rows."""
    if depth == len(shape) - 1:
        return True  # the numbers themselves: as_buffer checks their type, the size check their nesting
    length = shape[depth + 1]
    return all(
        isinstance(child, simdjson.Array) and len(child) == length and _rows_fit(child, shape, depth + 1)
        for child in node
    )
