"""On bench-style float32 data the core stays within float32 tolerance of the float64 reference.

The shapes keep the bench's class counts (10 to 128000, and a rank-3 batch) at test-suite size.
"""

import numpy as np
import pytest

from bench import payloads, reference
from service.losses import categorical_cross_entropy, sparse_cross_entropy

SHAPES = [(65536, 10), (512, 1000), (64, 32000), (8, 128000), (4, 16, 32000)]
RTOL = 1e-5  # ~80 float32 ulps; relative to max(|loss|, 1)


def _assert_close(losses: np.ndarray, loss: float, expected: np.ndarray) -> None:
    got = np.asarray(losses, dtype=np.float64)
    assert got.shape == expected.shape
    scale = np.maximum(np.abs(expected), 1.0)
    assert np.max(np.abs(got - expected) / scale) <= RTOL
    assert loss == pytest.approx(expected.mean(), rel=RTOL)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_sparse_float32(shape: tuple[int, ...]) -> None:
    logits = payloads.make_logits(shape)
    labels = payloads.make_labels(shape[:-1], shape[-1])
    result = sparse_cross_entropy(logits, labels, reduction="mean")
    _assert_close(result.losses, result.loss, reference.sparse_losses(logits, labels))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_categorical_float32(shape: tuple[int, ...]) -> None:
    logits = payloads.make_logits(shape)
    targets = payloads.make_targets(shape)
    result = categorical_cross_entropy(logits, targets, reduction="mean")
    _assert_close(result.losses, result.loss, reference.categorical_losses(logits, targets))
