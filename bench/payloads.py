"""Deterministic bench inputs and the request bodies built from them (JSON and Tensor forms)."""

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
import pybase64

from bench import reference

Form = Literal["json", "tensor", "v2-binary", "v2-json", "multilabel-json"]
FORMS: tuple[Form, ...] = ("json", "tensor")
SPARSE_PATH = "/v1/cross-entropy/sparse"
BINARY_PATH = "/v1/cross-entropy/binary"
V2_SPARSE_PATH = "/v2/models/sparse_cross_entropy/infer"
JSON_HEADERS: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
HEADER_LENGTH = "Inference-Header-Content-Length"

# Typical logits: a few units wide, so softmax is neither flat nor one-hot.
_LOGIT_SCALE = 2.0


def make_logits(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape, dtype=np.float32)
    logits *= _LOGIT_SCALE
    return logits


def make_labels(shape: tuple[int, ...], num_classes: int, seed: int = 1) -> np.ndarray:
    """Class indices as int64, the dtype torch and most pipelines keep them in."""
    return np.random.default_rng(seed).integers(0, num_classes, size=shape, dtype=np.int64)


def make_targets(shape: tuple[int, ...], seed: int = 2) -> np.ndarray:
    """Soft label distributions (rows sum to 1) in float32."""
    targets = np.random.default_rng(seed).random(shape, dtype=np.float32)
    targets /= targets.sum(axis=-1, keepdims=True)
    return targets


def make_multi_hot(shape: tuple[int, ...], seed: int = 3) -> np.ndarray:
    """Multi-label targets: each label on with probability 0.2, as float32 0/1."""
    return (np.random.default_rng(seed).random(shape, dtype=np.float32) < 0.2).astype(np.float32)


def tensor_field(array: np.ndarray) -> dict[str, object]:
    """The contract's compact Tensor form: little-endian, row-major, base64."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "data": pybase64.b64encode(little.tobytes()).decode("ascii"),
    }


def sparse_body(logits: np.ndarray, labels: np.ndarray, form: Form) -> bytes:
    """A `/v1/cross-entropy/sparse` body as a typical client sends it.

    The JSON form is what `json.dumps({"logits": t.tolist(), ...})` gives for a float32 tensor:
    each value printed as the float64 it widens to (about 19 characters a number).
    """
    if form == "json":
        return orjson.dumps({"logits": logits.tolist(), "labels": labels.tolist()})
    return orjson.dumps({"logits": tensor_field(logits), "labels": tensor_field(labels)})


def v2_binary_body(logits: np.ndarray, labels: np.ndarray) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """An Open Inference Protocol request with Triton's binary tensor extension: the JSON header, then
    the raw little-endian bytes of each input; the outputs come back binary too."""
    inputs = [("logits", "FP32", logits.astype("<f4")), ("labels", "INT64", labels.astype("<i8"))]
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": n,
                    "datatype": d,
                    "shape": list(a.shape),
                    "parameters": {"binary_data_size": a.nbytes},
                }
                for n, d, a in inputs
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    headers = (("Content-Type", "application/octet-stream"), (HEADER_LENGTH, str(len(header))))
    return header + b"".join(a.tobytes() for *_, a in inputs), headers


def v2_json_body(logits: np.ndarray, labels: np.ndarray) -> bytes:
    """An Open Inference Protocol JSON request, data flat and row-major as V2 clients send it."""
    return orjson.dumps(
        {
            "inputs": [
                {
                    "name": "logits",
                    "datatype": "FP32",
                    "shape": list(logits.shape),
                    "data": logits.ravel().tolist(),
                },
                {"name": "labels", "datatype": "INT64", "shape": list(labels.shape), "data": labels.tolist()},
            ]
        }
    )


def loss_of(content: bytes, headers: Any) -> float:
    """The loss in an answer: /v1 JSON, or V2 (JSON outputs, or binary after the JSON header)."""
    length = int(headers.get(HEADER_LENGTH, len(content)))
    body = orjson.loads(content[:length])
    if "outputs" not in body:
        return float(body["loss"])
    offset = length
    for output in body["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if output["name"] == "loss":
            data = output["data"] if size is None else np.frombuffer(content[offset : offset + size], "<f8")
            return float(data[0])
        offset += size or 0
    raise KeyError("loss")


@dataclass(frozen=True)
class HttpPayload:
    """One HTTP bench case: a (rows, classes) sparse problem in one form, with its expected loss, and
    where it goes (path and headers: /v1 JSON by default)."""

    rows: int
    classes: int
    form: Form
    body: bytes
    expected_loss: float
    path: str = SPARSE_PATH
    headers: tuple[tuple[str, str], ...] = JSON_HEADERS

    @property
    def name(self) -> str:
        return f"{self.rows}x{self.classes}"


def http_payload(rows: int, classes: int, form: Form, seed: int = 0) -> HttpPayload:
    logits = make_logits((rows, classes), seed)
    if form == "multilabel-json":  # sigmoid cross-entropy on multi-hot labels, as tagging models send
        targets = make_multi_hot((rows, classes), seed + 1)
        body = orjson.dumps({"logits": logits.tolist(), "labels": targets.tolist()})
        expected = float(reference.binary_losses(logits, targets).mean())
        return HttpPayload(rows, classes, form, body, expected, BINARY_PATH)
    labels = make_labels((rows,), classes, seed + 1)
    expected = float(reference.sparse_losses(logits, labels).mean())
    if form == "v2-binary":
        body, headers = v2_binary_body(logits, labels)
        return HttpPayload(rows, classes, form, body, expected, V2_SPARSE_PATH, headers)
    if form == "v2-json":
        return HttpPayload(rows, classes, form, v2_json_body(logits, labels), expected, V2_SPARSE_PATH)
    return HttpPayload(rows, classes, form, sparse_body(logits, labels, form), expected)
