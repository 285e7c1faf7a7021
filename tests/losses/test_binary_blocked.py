"""The blocked float32 path of the plain binary loss (no weights, masks or focal) against the float64
reference: confident rows, mixed magnitudes and narrow/wide label axes, each example independent of its
batch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import binary_reference

from service.losses import binary_cross_entropy
from service.losses.binary import _NARROW_BLOCK

# Float32 inputs: a loss within float32 rounding (a soft target's max(x, 0) − x·t cancels a little) of
# the float64 value of the same inputs; the same bound the core bench applies.
FLOAT32_RTOL = 1e-5


def _reference_losses(x: np.ndarray, y: np.ndarray, **options: float) -> np.ndarray:
    return np.asarray(binary_reference.binary(x.astype(np.float64), y, **options).losses)


def test_a_confident_row_keeps_its_relative_accuracy() -> None:
    # exp(-16.3) ≈ 8.2e-8 sits below float32's epsilon: 1 + e must not be rounded in float32.
    x = np.array([[-29.15327, 16.314465, -172.04163]], dtype=np.float32)
    y = np.array([[0.0, 1.0, 0.0]], dtype=np.float32)
    got = binary_cross_entropy(x, y, reduction="none").losses
    np.testing.assert_allclose(got, _reference_losses(x, y), rtol=FLOAT32_RTOL)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 300),
    classes=st.sampled_from([1, 3, 10, 63, 64, 700]),
    scale=st.sampled_from([0.1, 3.0, 30.0, 300.0]),
    smoothing=st.sampled_from([0.0, 0.1]),
    seed=st.integers(0, 2**31),
)
def test_random_float32_batches_match_the_float64_reference(
    rows: int, classes: int, scale: float, smoothing: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, classes)) * scale).astype(np.float32)
    y = (rng.random((rows, classes)) < 0.3).astype(np.float32)
    got = binary_cross_entropy(x, y, reduction="none", label_smoothing=smoothing).losses
    expected = _reference_losses(x, y, label_smoothing=smoothing)
    np.testing.assert_allclose(got, expected, rtol=FLOAT32_RTOL, atol=1e-30)
    head = max(1, rows // 2)
    alone = binary_cross_entropy(x[:head], y[:head], reduction="none", label_smoothing=smoothing).losses
    assert np.array_equal(alone, got[:head])  # an example's loss does not depend on its batch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_labels_take_the_same_path_accurately(dtype: type) -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((200, 40)) * 5).astype(dtype)
    y = rng.random((200, 40))
    got = binary_cross_entropy(x, y, reduction="none").losses
    rtol = FLOAT32_RTOL if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(got, _reference_losses(x, y), rtol=rtol)


@pytest.mark.parametrize("classes", [1, 10, 63])
def test_narrow_batches_over_several_blocks_keep_each_example_independent(classes: int) -> None:
    # Few classes: blocks are taken class-major; rows in the second and third block, and the last
    # row of a partial block, give what they give alone and what the reference gives.
    rows = 2 * (_NARROW_BLOCK // classes) + 5
    rng = np.random.default_rng(classes)
    x = (rng.standard_normal((rows, classes)) * 4).astype(np.float32)
    y = (rng.random((rows, classes)) < 0.3).astype(np.float32)
    got = binary_cross_entropy(x, y, reduction="none").losses
    picks = np.unique(np.linspace(0, rows - 1, 200).astype(int))
    np.testing.assert_allclose(got[picks], _reference_losses(x[picks], y[picks]), rtol=FLOAT32_RTOL)
    for row in (0, _NARROW_BLOCK // classes, rows - 1):
        alone = binary_cross_entropy(x[row : row + 1], y[row : row + 1], reduction="none").losses
        assert np.array_equal(alone, got[row : row + 1])
