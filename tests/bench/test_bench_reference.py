"""The bench's float64 yardstick reproduces the published vectors (semantics.md §8b)."""

import numpy as np
import pytest

from bench import reference

L = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]], dtype=np.float32)
Y = np.array([0, 1, 2, 1])
T = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], dtype=np.float32)
L3 = np.array(
    [
        [[0.3, -1.2, 2.0, 0.5], [1.5, 0.0, -0.7, 0.9], [-2.0, 0.4, 0.4, 1.1]],
        [[0.0, 0.0, 3.0, -1.0], [2.2, -0.3, 0.8, 0.1], [-0.5, -0.5, -0.5, -0.5]],
    ],
    dtype=np.float32,
)
Y3 = np.array([[2, 3, 0], [1, 0, 3]])


def test_sparse_matches_v01_and_v02() -> None:
    losses = reference.sparse_losses(L, Y)
    assert losses == pytest.approx([0.4170300, 0.1531782, 0.06588390, 1.098612], rel=2e-6)
    assert losses.mean() == pytest.approx(0.4336761, rel=2e-6)


def test_categorical_soft_targets_match_v11() -> None:
    losses = reference.categorical_losses(L, T)
    assert losses == pytest.approx([0.8070300, 0.7031782, 1.565884, 1.098612], rel=2e-6)


def test_rank3_matches_v14() -> None:
    losses = reference.sparse_losses(L3, Y3)
    expected = [[0.3691993, 1.232731, 3.812077], [3.111443, 0.3723483, 1.386294]]
    assert losses.shape == (2, 3)
    assert losses == pytest.approx(np.array(expected), rel=2e-6)


def test_blocks_cover_every_row_of_a_wide_array() -> None:
    # More rows than one block holds: every row must still be computed, in order.
    logits = np.zeros((5000, 1000), dtype=np.float32)
    labels = np.zeros(5000, dtype=np.int64)
    assert reference.sparse_losses(logits, labels) == pytest.approx(np.full(5000, np.log(1000)))
