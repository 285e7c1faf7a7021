"""Binary inputs are views of the request body where alignment allows, and aligned copies elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
from v2_support import LOGITS, binary_request

from service.api.v2 import framing, inputs
from service.families import family_of

LABELS = np.array([0, 3, 1, 2, 2, 1], dtype=np.int64)


def read(pad: int) -> tuple[bytearray, inputs.Request]:
    body, headers = binary_request(
        [("logits", "FP32", LOGITS.astype(np.float32)), ("labels", "INT64", LABELS)], pad=pad
    )
    buffer = bytearray(body)
    framed = framing.unframe(buffer, headers["Inference-Header-Content-Length"], max_elements=1 << 24)
    return buffer, inputs.read(framed, family_of("sparse"), max_elements=1 << 24)


def header_pad_for_alignment(offset: int) -> int:
    """The pad that puts the binary section at an offset ≡ ``offset`` (mod 8)."""
    _, headers = binary_request([("logits", "FP32", LOGITS.astype(np.float32)), ("labels", "INT64", LABELS)])
    return (offset - int(headers["Inference-Header-Content-Length"])) % 8


def test_aligned_inputs_are_read_only_views_of_the_body() -> None:
    buffer, request = read(header_pad_for_alignment(0))
    whole = np.frombuffer(buffer, dtype=np.uint8)
    for name in ("logits", "labels"):
        array = request.parsed.arrays[name]
        assert isinstance(array, np.ndarray)
        assert np.shares_memory(array, whole)
        assert not array.flags.writeable
    assert request.parsed.arrays["logits"].tolist() == LOGITS.astype(np.float32).tolist()


@pytest.mark.parametrize("offset", [1, 2, 3, 5])
def test_misaligned_inputs_are_copied_once_into_aligned_arrays(offset: int) -> None:
    buffer, request = read(header_pad_for_alignment(offset))
    logits = request.parsed.arrays["logits"]
    assert isinstance(logits, np.ndarray)
    assert logits.flags.aligned
    assert not np.shares_memory(logits, np.frombuffer(buffer, dtype=np.uint8))
    assert logits.tolist() == LOGITS.astype(np.float32).tolist()
    assert request.parsed.arrays["labels"].tolist() == LABELS.tolist()
