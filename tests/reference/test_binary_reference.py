"""The binary and focal reference alone reproduces the libraries' numbers, before it judges the service."""

from __future__ import annotations

import math

import pytest

from .binary_reference import binary, element_loss
from .binary_vectors import BINARY_VECTORS, FOCAL_VECTORS
from .compare import assert_published
from .numpy_reference import from_request
from .vectors import Vector


@pytest.mark.parametrize("vector", BINARY_VECTORS + FOCAL_VECTORS, ids=lambda v: v.id)
def test_reference_reproduces_library_vector(vector: Vector) -> None:
    result = from_request(vector.endpoint, vector.body)
    for reduction, expected in vector.loss.items():
        assert result.loss(reduction) == pytest.approx(expected, rel=vector.rel)
    if vector.losses is not None:
        assert_published(result.losses, vector.losses, vector.rel)


def test_torch_sum_is_c_times_the_keras_sum() -> None:
    # §A.2: torch sums N·C elements, Keras N per-example means.
    x, y = [[1.5, -0.5, 0.0], [-2.0, 3.0, 0.7]], [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    assert binary(x, y, axis=None).loss("sum") == pytest.approx(3 * binary(x, y).loss("sum"), rel=1e-15)


def test_masked_labels_leave_the_mean_and_all_masked_examples_do_not_count() -> None:
    result = binary(
        [[0.0, 5.0, 0.0], [1.0, 1.0, 1.0]], [[1.0, -1.0, 0.0], [-1.0, -1.0, -1.0]], ignore_index=-1
    )
    assert result.losses.tolist() == [math.log(2.0), 0.0]
    assert (result.count, result.weight_sum) == (1, 1.0)


def test_element_loss_by_hand() -> None:
    # −log σ(0) = log 2; with q = 3 and y = 1 three times that; p = 0.5 the same from probabilities.
    assert element_loss(0.0, 1.0, from_logits=True, q=3.0) == pytest.approx(3 * math.log(2.0))
    assert element_loss(0.5, 1.0, from_logits=False, q=3.0) == pytest.approx(3 * math.log(2.0))
    # (1 − p_t)^γ at p = σ(0) = 0.5 is 0.5^γ; α's weight for y = 0 is 1 − α.
    assert element_loss(0.0, 0.0, from_logits=True, gamma=2.0, alpha=0.25) == pytest.approx(
        0.75 * 0.25 * math.log(2.0)
    )
