"""Arrays from request fields: nested JSON arrays and base64 Tensors into NumPy, with precise errors."""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pybase64

from .pointers import pointer
from .problems import ProblemError, clip, item
from .schemas import NESTED_MAX_RANK, TENSOR_MAX_RANK, Tensor

# Tensor dtypes as NumPy reads their little-endian bytes; bfloat16 arrives as raw 16-bit words.
TENSOR_DTYPES: dict[str, np.dtype] = {
    "float16": np.dtype("<f2"),
    "bfloat16": np.dtype("<u2"),
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
}
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
INT_DTYPES = ("int32", "int64")


@dataclass(frozen=True)
class ArrayKind:
    """What an array field holds: the Tensor dtypes it takes, whether its JSON numbers are integers
    (class ids, read as int64), whether it can be large enough for the fast paths, and the rank of a
    typical batch (``[N, C]`` predictions: 2), which V2 metadata lists as that many variable dimensions."""

    dtypes: tuple[str, ...]
    integer: bool = False
    bulk: bool = True
    rank: int = 1


PREDICTIONS = ArrayKind(FLOAT_DTYPES, rank=2)
CLASS_IDS = ArrayKind(INT_DTYPES, integer=True)
TARGETS = ArrayKind(FLOAT_DTYPES + INT_DTYPES, rank=2)
WEIGHTS = ArrayKind(FLOAT_DTYPES)
PER_CLASS = ArrayKind(FLOAT_DTYPES, bulk=False)  # one number per class: small, a plain list


class SplicedTensor(NamedTuple):
    """A Tensor whose base64 ``data`` was cut out of the body before parsing (see ``fast_json``)."""

    tensor: Tensor
    data: memoryview


def decode(
    value: Any,
    *,
    field: str,
    integer: bool = False,
    allowed: tuple[str, ...] = FLOAT_DTYPES,
    max_elements: int,
) -> np.ndarray:
    """A request array as NumPy: float64 (or int64 with ``integer``) for JSON, the Tensor's own dtype else;
    an array the fast path already decoded is only checked for size."""
    if isinstance(value, Tensor):
        return decode_tensor(value, field=field, allowed=allowed, max_elements=max_elements)
    if isinstance(value, SplicedTensor):
        return decode_tensor(
            value.tensor, field=field, allowed=allowed, max_elements=max_elements, data=value.data
        )
    if isinstance(value, np.ndarray):
        check_size(value.size, field, max_elements)
        return value
    dtype = np.int64 if integer else np.float64
    try:
        array = np.array(value, dtype=dtype)
    except ValueError:
        raise diagnose_nested(value, field=field, integer=integer) from None
    except OverflowError:
        raise _label_overflow(value, field) from None
    check_size(array.size, field, max_elements)
    return array


def check_size(size: int, field: str, max_elements: int, *, where: str | None = None) -> None:
    """``too_large`` (413) past the element limit; ``where`` points elsewhere than at ``field``."""
    if size > max_elements:
        raise ProblemError(
            "too_large",
            f"{field} has {size} elements; this service accepts at most {max_elements} per array",
            errors=[
                item(
                    "too_large",
                    pointer(field) if where is None else where,
                    "too many elements",
                    expected=max_elements,
                    received=size,
                )
            ],
            hint="split the batch into several requests and combine loss_sum, weight_sum and count",
        )


def decode_tensor(
    tensor: Tensor,
    *,
    field: str,
    allowed: tuple[str, ...],
    max_elements: int,
    data: memoryview | None = None,
) -> np.ndarray:
    """The Tensor as NumPy; ``data`` overrides ``tensor.data`` with the base64 text itself."""
    if tensor.dtype not in allowed:
        raise ProblemError(
            "bad_tensor",
            f"{field} must have dtype {' or '.join(allowed)}, got {tensor.dtype}",
            errors=[
                item(
                    "bad_tensor",
                    pointer(field, "dtype"),
                    "dtype not allowed here",
                    expected=list(allowed),
                    received=tensor.dtype,
                )
            ],
            hint="class ids are int32/int64 Tensors; predictions and weights are float Tensors"
            if field == "labels" or tensor.dtype in INT_DTYPES
            else None,
        )
    size = math.prod(tensor.shape)  # Python ints: a claimed shape may overflow int64
    check_size(size, field, max_elements)
    try:
        raw = pybase64.b64decode(tensor.data if data is None else data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProblemError(
            "bad_tensor",
            f"{field}.data is not valid base64: {clip(str(exc), 80)}",
            errors=[item("bad_tensor", pointer(field, "data"), "invalid base64")],
            hint="use standard base64 (RFC 4648 §4, with + and /, padded), not the URL-safe alphabet",
        ) from None
    check_byte_length(
        len(raw), tensor.shape, tensor.dtype, what=f"{field}.data", where=pointer(field, "data")
    )
    return from_bytes(raw, tensor.dtype, tensor.shape)


def check_byte_length(nbytes: int, shape: list[int], dtype_name: str, *, what: str, where: str) -> None:
    """``bad_tensor`` unless ``nbytes`` is exactly ``prod(shape)`` elements of ``dtype_name``."""
    dtype = TENSOR_DTYPES[dtype_name]
    size = math.prod(shape)
    expected = size * dtype.itemsize
    if nbytes == expected:
        return
    hint = None
    if nbytes % dtype.itemsize == 0:
        hint = f"the data holds {nbytes // dtype.itemsize} {dtype_name} elements"
        for other, other_dtype in TENSOR_DTYPES.items():
            if other != dtype_name and nbytes == size * other_dtype.itemsize:
                hint += f"; it would fit shape {shape} as {other}"
                break
    raise ProblemError(
        "bad_tensor",
        f"{what} has {nbytes} bytes, but shape {shape} of {dtype_name} needs "
        f"{expected} ({size} × {dtype.itemsize})",
        errors=[
            item(
                "bad_tensor",
                where,
                "byte length does not match shape and dtype",
                expected=expected,
                received=nbytes,
            )
        ],
        hint=hint,
    )


def from_bytes(buffer: Any, dtype_name: str, shape: list[int]) -> np.ndarray:
    """A view of little-endian, row-major ``buffer`` (its length already checked); copied only where
    it must be: bfloat16 is widened, and a view that is not aligned for its dtype is copied once."""
    array = np.frombuffer(buffer, dtype=TENSOR_DTYPES[dtype_name]).reshape(shape)
    if dtype_name == "bfloat16":
        # bfloat16 is the upper half of a float32: widening is exact.
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array if array.flags.aligned else array.copy()


def _label_overflow(value: Any, field: str) -> ProblemError:
    path, number = _first(value, lambda v: isinstance(v, int) and not -(2**63) <= v < 2**63) or ((), value)
    text = clip(str(number), 40)
    return ProblemError(
        "label_out_of_range",
        f"Received a label value of {text} which does not fit a 64-bit integer.",
        errors=[
            item(
                "label_out_of_range",
                pointer(field, *path),
                "label value out of range",
                received=text,
            )
        ],
    )


def _first(value: Any, predicate: Any, path: tuple[int, ...] = ()) -> tuple[tuple[int, ...], Any] | None:
    """The path and value of the first element of a nested list that ``predicate`` holds for."""
    if not isinstance(value, list):
        return (path, value) if predicate(value) else None
    for i, v in enumerate(value):
        if (found := _first(v, predicate, (*path, i))) is not None:
            return found
    return None


def diagnose_nested(
    value: Any, *, field: str, integer: bool, max_rank: int = NESTED_MAX_RANK, root: str | None = None
) -> ProblemError:
    """Why a nested array is not a rectangular array of numbers: the first place it goes wrong.
    Pointers descend from ``/field``, or from ``root`` where the array sits elsewhere in the body."""
    kind = "an integer class id" if integer else "a number"

    def at(*path: int) -> str:
        return pointer(field, *path) if root is None else root + pointer(*path)

    level: list[tuple[tuple[int, ...], Any]] = [((), value)]
    depth = 0
    while level:
        first_path, first = level[0]
        first_is_list = isinstance(first, list)
        for path, v in level:
            bad = _bad_scalar(v, integer)
            if bad is not None:
                code = "label_not_integer" if integer and isinstance(v, float) else "invalid_field"
                return ProblemError(
                    code,
                    f"{field} must hold {kind} at {at(*path)}, got {bad}",
                    errors=[item(code, at(*path), f"expected {kind}, got {bad}", received=bad)],
                    hint=(
                        "sparse labels are class ids; one-hot or soft labels go to "
                        "POST /v1/cross-entropy/categorical"
                    )
                    if code == "label_not_integer"
                    else None,
                )
            if isinstance(v, list) != first_is_list or (first_is_list and len(v) != len(first)):
                what = f"a list of {len(v)}" if isinstance(v, list) else "a number"
                like = f"a list of {len(first)}" if first_is_list else "a number"
                where = at(*path)
                return ProblemError(
                    "ragged_array",
                    f"{field} is ragged: {where} is {what} where {at(*first_path)} is {like}",
                    errors=[
                        item(
                            "ragged_array",
                            where,
                            f"expected {like}, got {what}",
                            expected=len(first) if first_is_list else "number",
                            received=len(v) if isinstance(v, list) else "number",
                        )
                    ],
                    hint="every row must have the same length; pad, or send separate requests",
                )
        if not first_is_list:
            break
        depth += 1
        if depth > max_rank:
            break
        level = [((*path, i), x) for path, v in level for i, x in enumerate(v)]
    rank_text = f"rank {depth}" if depth <= max_rank else f"rank above {max_rank}"
    return ProblemError(
        "invalid_field",
        f"{field} must be a nested array of rank 1 to {max_rank}, got {rank_text}",
        errors=[item("invalid_field", at(), "unsupported rank", expected=[1, max_rank])],
        hint=f"send arrays of rank {max_rank + 1} to {TENSOR_MAX_RANK} as a Tensor "
        '({"dtype", "shape", "data"}), whose shape may have up to '
        f"{TENSOR_MAX_RANK} dimensions; nested arrays stop at rank {max_rank}",
    )


def _bad_scalar(v: Any, integer: bool) -> str | None:
    """A short description of ``v`` when it cannot be an element, else ``None``."""
    if isinstance(v, list):
        return None
    if isinstance(v, bool) or v is None or isinstance(v, str | dict):
        return clip(_json_repr(v), 40)
    if integer and isinstance(v, float):
        return clip(repr(v), 40)
    return None if isinstance(v, int | float) else clip(repr(v), 40)


def _json_repr(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "an object"
    return f'"{v}"' if isinstance(v, str) else repr(v)
