"""A V2 request's inputs and parameters → the ``Parsed`` request the /v1 front end makes.

Inputs are arrays by name; their limits are checked before their bytes are looked at (elements, then
byte count). Binary inputs are views of the request body, copied only when misaligned (or bfloat16,
which is widened). Parameters are validated by the family's own request model, so their bounds and
errors are those of /v1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import numpy as np
from pydantic import BaseModel, Field, ValidationError, create_model

from ...families import Family
from ..decoding import (
    TENSOR_DTYPES,
    ArrayKind,
    check_byte_length,
    check_size,
    diagnose_nested,
    from_bytes,
)
from ..parsing import Parsed, predictions_field
from ..pointers import pointer
from ..problems import ProblemError, item
from ..request_errors import translate
from ..schemas import TENSOR_MAX_RANK, StrictModel
from .datatypes import TENSOR_DTYPE_OF, accepted
from .framing import Framed
from .schemas import RequestInput

# The protocol's own parameters: they shape the response, not the computation.
PROTOCOL_PARAMETERS = frozenset({"binary_data_output", "binary_data", "binary_data_size"})


@dataclass(frozen=True)
class Placed:
    """Where an input sat in the request: its position, and its data's own shape when it was JSON
    (a flat list, or nested) — ``None`` for binary data."""

    position: int
    shape: tuple[int, ...]
    json_shape: tuple[int, ...] | None


@dataclass(frozen=True)
class Request:
    parsed: Parsed
    placed: dict[str, Placed]

    def locate(self, field: str, index: tuple[int, ...] | None) -> str:
        """A core issue's (field, index) as a pointer: into JSON ``data`` it descends (flat or nested,
        as sent); a binary input stops at ``/inputs/i`` (the problem's ``index`` gives the element)."""
        placed = self.placed.get(field)
        if placed is None:
            return pointer("parameters", field) if field in self.parsed.options else ""
        where = pointer("inputs", placed.position)
        if index is None or placed.json_shape is None or len(index) != len(placed.shape):
            return where
        try:
            flat = np.ravel_multi_index(index, placed.shape)
            return where + pointer("data", *(int(i) for i in np.unravel_index(flat, placed.json_shape)))
        except ValueError:  # an index beyond the shape (broadcast): the input as a whole
            return where


def read(framed: Framed, family: Family, *, max_elements: int) -> Request:
    options = _options(framed.header.parameters or {}, family)
    arrays: dict[str, np.ndarray | float] = {}
    placed: dict[str, Placed] = {}
    binary = _Binary(framed.binary)
    for position, entry in enumerate(framed.header.inputs):
        kind = _kind(entry, position, family, placed)
        where = f"/inputs/{position}"
        dtype = TENSOR_DTYPE_OF[entry.datatype]
        if dtype not in kind.dtypes:
            raise _datatype_not_accepted(entry, kind, where)
        check_size(math.prod(entry.shape), entry.name, max_elements, where=where)
        size = entry.parameters.binary_data_size if entry.parameters else None
        if size is not None:
            if entry.data is not None:
                raise _invalid(where + "/data", f"input {entry.name} has binary_data_size and data: send one")
            buffer = binary.take(size, entry.name, where)
            check_byte_length(size, entry.shape, dtype, what=f"input {entry.name}", where=where)
            arrays[entry.name] = from_bytes(buffer, dtype, entry.shape)
            placed[entry.name] = Placed(position, tuple(entry.shape), None)
        else:
            decoded = framed.json_data.get(position)
            arrays[entry.name], json_shape = _from_json(entry, dtype, kind, where, decoded)
            placed[entry.name] = Placed(position, tuple(entry.shape), json_shape)
    binary.finish()
    _require(family, placed)
    predictions = predictions_field(placed, family, lambda _: "/inputs")
    nested = {name: where.json_shape is not None for name, where in placed.items()}
    return Request(Parsed(options, arrays, predictions, nested), placed)


def _kind(entry: RequestInput, position: int, family: Family, placed: Mapping[str, Placed]) -> ArrayKind:
    kind = family.arrays.get(entry.name)
    if kind is not None and entry.name not in placed:
        return kind
    where = f"/inputs/{position}/name"
    if kind is None:
        raise _invalid(
            where,
            f"model {family.name} has no input {entry.name[:40]!r}; its inputs are "
            f"{', '.join(family.arrays)}",
        )
    raise _invalid(where, f"input {entry.name} is sent twice")


def _require(family: Family, placed: Mapping[str, Placed]) -> None:
    for name in family.arrays:
        if family.request.model_fields[name].is_required() and name not in placed:
            raise _invalid("/inputs", f"input {name} is required")


class _Binary:
    """The binary section, handed out input by input in request order."""

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.offset = 0

    def take(self, size: int, name: str, where: str) -> memoryview:
        end = self.offset + size
        if end > len(self.view):
            raise _bad_tensor(
                where,
                f"input {name} claims {size} bytes at offset {self.offset} of the binary data, which "
                f"holds only {len(self.view)}",
            )
        part = self.view[self.offset : end]
        self.offset = end
        return part

    def finish(self) -> None:
        if self.offset != len(self.view):
            raise _bad_tensor(
                "/inputs",
                f"the body has {len(self.view)} bytes after the JSON header, but the inputs' "
                f"binary_data_size add up to {self.offset}",
            )


def _from_json(
    entry: RequestInput, dtype: str, kind: ArrayKind, where: str, decoded: np.ndarray | None
) -> tuple[np.ndarray, tuple[int, ...]]:
    """JSON ``data`` (flat or nested, row-major) as the input's datatype; ``decoded``: that data already
    read into NumPy by the fast path."""
    data = entry.data
    if not isinstance(data, list):
        raise _invalid(where + "/data", f"input {entry.name} needs data (a list) or binary_data_size")
    integer = dtype in ("int32", "int64")
    try:
        array = np.array(data) if decoded is None else decoded
    except (ValueError, OverflowError):
        array = np.array(None)
    if array.dtype.kind not in ("i", "f") or (integer and array.dtype.kind == "f"):
        raise diagnose_nested(
            data, field=entry.name, integer=integer, max_rank=TENSOR_MAX_RANK, root=where + "/data"
        )
    expected = math.prod(entry.shape)
    if array.size != expected:
        raise _bad_tensor(
            where + "/data",
            f"input {entry.name} has {array.size} elements of data, but shape {entry.shape} needs {expected}",
        )
    target = TENSOR_DTYPES[dtype]
    if integer and array.size and (array.min() < np.iinfo(target).min or array.max() > np.iinfo(target).max):
        raise _bad_tensor(where + "/data", f"input {entry.name} holds values outside the range of {dtype}")
    shaped = array.reshape(entry.shape)
    with np.errstate(over="ignore"):  # an overflow is the client's to hear about, below
        cast = _round_to_bfloat16(shaped) if dtype == "bfloat16" else shaped.astype(target, copy=False)
    if not integer:
        _check_no_overflow(array, cast, entry, where)
    return cast, array.shape


def _check_no_overflow(sent: np.ndarray, cast: np.ndarray, entry: RequestInput, where: str) -> None:
    """A finite number the datatype cannot hold would otherwise become ±inf, and the problem say "inf": name
    the number sent instead."""
    overflowed = np.flatnonzero(np.isinf(cast.ravel()) & np.isfinite(sent.ravel()))
    if overflowed.size:
        at = np.unravel_index(int(overflowed[0]), sent.shape)
        value = float(sent.ravel()[overflowed[0]])
        wider = "FP64" if entry.datatype == "FP32" else "FP32 or FP64"
        raise _bad_tensor(
            where + "/data/" + "/".join(str(int(i)) for i in at),
            f"input {entry.name} holds {value:g}, beyond {entry.datatype}'s largest finite value "
            f"{_LARGEST[entry.datatype]:g}; send it as {wider}",
        )


# The largest finite value of each floating datatype a cast can overflow.
_LARGEST = {
    "FP16": float(np.finfo(np.float16).max),
    "BF16": float.fromhex("0x1.fep127"),
    "FP32": float(np.finfo(np.float32).max),
}


def _round_to_bfloat16(array: np.ndarray) -> np.ndarray:
    """bfloat16 values (held as float32) nearest to ``array``, ties to even, as a bfloat16 tensor holds."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


# Options: the family's request model with its arrays made optional (never sent: inputs are arrays),
# wrapped so that pointers read /parameters/<name>. One per family, built on first use.
_PARAMETER_MODELS: dict[str, type[BaseModel]] = {}


def _parameters_model(family: Family) -> type[BaseModel]:
    model = _PARAMETER_MODELS.get(family.name)
    if model is None:
        model = _PARAMETER_MODELS[family.name] = _derive_parameters_model(family)
    return model


def _derive_parameters_model(family: Family) -> type[BaseModel]:
    arrays: dict[str, Any] = {name: (Any, None) for name in family.arrays}
    options = create_model(family.request.__name__ + "Parameters", __base__=family.request, **arrays)
    return create_model(
        family.request.__name__ + "V2",
        __base__=StrictModel,
        parameters=(options, Field(default_factory=options)),
    )


def _options(parameters: Mapping[str, Any], family: Family) -> dict[str, Any]:
    for name in parameters:
        if name in family.arrays:
            raise _invalid(pointer("parameters", name), f"{name} is an input of the model, not a parameter")
    fields = family.request.model_fields
    values = {
        name: _listed(value) if name in fields and _is_list(fields[name].annotation) else value
        for name, value in parameters.items()
        if name not in PROTOCOL_PARAMETERS
    }
    try:
        validated = _parameters_model(family).model_validate({"parameters": values})
    except ValidationError as exc:
        raise translate(exc, b"{}", family) from None
    request = validated.parameters  # type: ignore[attr-defined]
    return {name: getattr(request, name) for name in fields if name not in family.arrays}


def _is_list(annotation: Any) -> bool:
    return any(get_origin(a) in (list, tuple) for a in (annotation, *get_args(annotation)))


def _listed(value: Any) -> Any:
    """A comma-separated string as the list the request model takes (``metrics``)."""
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


def _invalid(where: str, message: str) -> ProblemError:
    return ProblemError("invalid_field", message, errors=[item("invalid_field", where, message)])


def _bad_tensor(where: str, message: str) -> ProblemError:
    return ProblemError("bad_tensor", message, errors=[item("bad_tensor", where, message)])


def _datatype_not_accepted(entry: RequestInput, kind: ArrayKind, where: str) -> ProblemError:
    allowed = accepted(kind)
    message = f"input {entry.name} must have datatype {' or '.join(allowed)}, got {entry.datatype}"
    return ProblemError(
        "bad_tensor",
        message,
        errors=[item("bad_tensor", where + "/datatype", message, expected=allowed, received=entry.datatype)],
    )
