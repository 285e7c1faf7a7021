"""Array → JSON value: the compact Tensor form (default) or nested arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pybase64

# Tensor dtypes NumPy can produce directly (bfloat16 has no native NumPy dtype).
TENSOR_DTYPES = frozenset({"float16", "float32", "float64", "int32", "int64"})


class EncodingError(ValueError):
    """An array cannot be represented in the chosen wire form."""


def to_tensor(array: npt.NDArray[Any]) -> dict[str, Any]:
    """``{"dtype", "shape", "data"}`` with little-endian, row-major bytes in base64."""
    name = array.dtype.name
    if name not in TENSOR_DTYPES:
        raise EncodingError(f"dtype {name} cannot be sent as a Tensor")
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": name,
        "shape": list(array.shape),
        "data": pybase64.b64encode(little.tobytes()).decode("ascii"),
    }


def check_json_numbers(array: npt.NDArray[Any], name: str) -> None:
    """JSON numbers cannot carry NaN or ±inf (the Tensor form can)."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise EncodingError(
            f"{name} holds non-finite values, which JSON numbers cannot carry; send Tensors (drop --json)"
        )


def to_nested(array: npt.NDArray[Any]) -> Any:
    """Nested JSON arrays (call :func:`check_json_numbers` first)."""
    return array.tolist()
