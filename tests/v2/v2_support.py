"""Shared by the /v2 tests: the data every model is driven with, the /v1 answer for the same data, and
V2 requests built by hand."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
from reference.tensor import tensor

from service.families import Family

# V2 datatype → the /v1 Tensor dtype and the NumPy dtype a client holds (BF16: float32 values).
DTYPES = {
    "FP16": ("float16", np.float16),
    "BF16": ("bfloat16", np.float32),
    "FP32": ("float32", np.float32),
    "FP64": ("float64", np.float64),
    "INT32": ("int32", np.int32),
    "INT64": ("int64", np.int64),
}
STATISTICS = ("loss_sum", "weight_sum", "count", "nonzero_weight_count")

RNG = np.random.default_rng(14)
LOGITS = RNG.normal(0.0, 2.0, size=(6, 4))
SPARSE_LABELS = np.array([0, 3, 1, 2, -100, 1])
TARGETS = np.eye(4)[[1, 0, 3, 2, 2, 0]]

# Per family (by short name): the arrays and options it is driven with; every option is sent as a
# V2 parameter, every array as an input.
DATA: dict[str, dict[str, Any]] = {
    "sparse": {
        "arrays": {
            "labels": SPARSE_LABELS,
            "sample_weight": np.array([1.0, 2.0, 0.5, 1.0, 1.0, 0.0]),
            "class_weight": np.array([1.0, 0.5, 2.0, 1.0]),
        },
        "label_dtypes": ("INT64", "INT32"),
        "options": {"reduction": "mean", "label_smoothing": 0.1, "ignore_index": -100},
    },
    "categorical": {
        "arrays": {"labels": TARGETS, "sample_weight": np.array([1.0, 2.0, 0.5, 1.0, 1.0, 3.0])},
        "label_dtypes": ("FP32", "INT64"),
        "options": {"reduction": "sum_over_batch_size", "label_smoothing": 0.2},
    },
}


def v1_answer(
    http: httpx.Client, family: Family, arrays: dict[str, tuple[np.ndarray, str]], options: dict[str, Any]
) -> dict[str, Any]:
    """POST the same data to the family's /v1 endpoint, every array as a Tensor of the same dtype."""
    body: dict[str, Any] = dict(options)
    for name, (values, datatype) in arrays.items():
        body[name] = tensor(values, DTYPES[datatype][0])
    if "class_weight" in body:  # a plain list on /v1
        body["class_weight"] = arrays["class_weight"][0].tolist()
    response = http.post(family.path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    answer["body"] = body
    return answer


def binary_request(
    inputs: list[tuple[str, str, np.ndarray]],
    *,
    parameters: dict[str, Any] | None = None,
    pad: int = 0,
    sizes: dict[str, int] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A binary-extension request built by hand: ``pad`` spaces lengthen the JSON header (so the
    tensors start at any offset); ``sizes`` overrides an input's binary_data_size (a lie)."""
    header: dict[str, Any] = {
        "inputs": [
            {
                "name": name,
                "datatype": datatype,
                "shape": list(array.shape),
                "parameters": {"binary_data_size": (sizes or {}).get(name, array.nbytes)},
            }
            for name, datatype, array in inputs
        ]
    }
    if parameters:
        header["parameters"] = parameters
    text = json.dumps(header).encode() + b" " * pad
    data = b"".join(
        np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes() for *_, array in inputs
    )
    return text + data, {"Inference-Header-Content-Length": str(len(text))}
