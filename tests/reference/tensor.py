"""The contract's compact Tensor form, made without the service's decoder.

`{"dtype", "shape", "data"}` with little-endian row-major bytes; bfloat16 is the top 16 bits of the
float32 pattern, rounded to nearest even here.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import numpy.typing as npt

_NUMPY_DTYPES = {
    "float16": "<f2",
    "float32": "<f4",
    "float64": "<f8",
    "int32": "<i4",
    "int64": "<i8",
}


def _bfloat16_bits(values: Any) -> npt.NDArray[np.uint16]:
    bits = np.asarray(values, dtype="<f4").view(np.uint32).astype(np.uint64)
    # Adding 0x7FFF plus the lowest kept bit rounds half to even before the truncation.
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")


def rounded(values: Any, dtype: str) -> npt.NDArray[np.float64]:
    """The float64 values a `dtype` Tensor of `values` actually carries."""
    if dtype == "bfloat16":
        bits = _bfloat16_bits(values).astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    return np.asarray(values, dtype=_NUMPY_DTYPES[dtype]).astype(np.float64)


def tensor(values: Any, dtype: str) -> dict[str, Any]:
    """Encode `values` as a contract Tensor of `dtype`."""
    array = _bfloat16_bits(values) if dtype == "bfloat16" else np.asarray(values, dtype=_NUMPY_DTYPES[dtype])
    return {
        "dtype": dtype,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes(order="C")).decode("ascii"),
    }


def decode(value: Any) -> Any:
    """A Tensor object as a float64 or int64 array; any other value unchanged."""
    if not (isinstance(value, dict) and "dtype" in value):
        return value
    raw = base64.b64decode(value["data"])
    shape = tuple(value["shape"])
    if value["dtype"] == "bfloat16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64).reshape(shape)
    array = np.frombuffer(raw, dtype=_NUMPY_DTYPES[value["dtype"]]).reshape(shape)
    return array.astype(np.int64 if array.dtype.kind == "i" else np.float64)
