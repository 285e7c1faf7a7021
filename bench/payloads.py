"""Deterministic bench inputs and the request bodies built from them (JSON and Tensor forms)."""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import orjson
import pybase64

from bench import reference

Form = Literal["json", "tensor"]
FORMS: tuple[Form, ...] = ("json", "tensor")

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


@dataclass(frozen=True)
class HttpPayload:
    """One HTTP bench case: a (rows, classes) sparse problem in one form, with its expected loss."""

    rows: int
    classes: int
    form: Form
    body: bytes
    expected_loss: float

    @property
    def name(self) -> str:
        return f"{self.rows}x{self.classes}"


def http_payload(rows: int, classes: int, form: Form, seed: int = 0) -> HttpPayload:
    logits = make_logits((rows, classes), seed)
    labels = make_labels((rows,), classes, seed + 1)
    expected = float(reference.sparse_losses(logits, labels).mean())
    return HttpPayload(rows, classes, form, sparse_body(logits, labels, form), expected)
