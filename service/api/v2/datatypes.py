"""V2 datatypes as the Tensor dtypes they are, and the preferred datatype of an array kind."""

from __future__ import annotations

from typing import get_args

from ..decoding import ArrayKind
from .schemas import Datatype

TENSOR_DTYPE_OF: dict[str, str] = {
    "FP16": "float16",
    "BF16": "bfloat16",
    "FP32": "float32",
    "FP64": "float64",
    "INT32": "int32",
    "INT64": "int64",
}
DATATYPE_OF: dict[str, str] = {dtype: datatype for datatype, dtype in TENSOR_DTYPE_OF.items()}
assert set(TENSOR_DTYPE_OF) == set(get_args(Datatype))

# Preferred, in order: float32 for predictions and weights, int64 for class ids.
PREFERENCE = ("float32", "int64")


def accepted(kind: ArrayKind) -> list[str]:
    return [DATATYPE_OF[dtype] for dtype in kind.dtypes]


def preferred(kind: ArrayKind) -> str:
    return DATATYPE_OF[next(dtype for dtype in PREFERENCE if dtype in kind.dtypes)]
