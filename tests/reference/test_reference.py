"""The reference alone reproduces the published §8b numbers, before it judges the service."""

from __future__ import annotations

import math

import numpy as np
import pytest

from .compare import assert_published
from .numpy_reference import Reference, categorical, from_request, sparse
from .tensor import decode, rounded, tensor
from .vectors import (
    V20_BODY,
    V20_CORPUS_PERPLEXITY,
    V20_MEAN_PERPLEXITY,
    V20_SEQUENCE_PERPLEXITY,
    V20_SEQUENCE_WEIGHTS,
    VECTORS,
    Vector,
)

# The published "ref" numbers are float64 results printed to 7 significant digits.
REL = 6e-7


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_reference_reproduces_published_vector(vector: Vector) -> None:
    result = from_request(vector.endpoint, vector.body)
    for reduction, expected in vector.loss.items():
        if expected is None:
            assert result.loss(reduction) is None
        else:
            assert result.loss(reduction) == pytest.approx(expected, rel=REL)
    if vector.losses is not None:
        assert_published(result.losses, vector.losses, REL)


def test_reference_v20_perplexity() -> None:
    per_sequence = [
        math.exp(_mean(from_request("sparse", {**V20_BODY, "sample_weight": weights})))
        for weights in V20_SEQUENCE_WEIGHTS
    ]
    assert per_sequence == pytest.approx(list(V20_SEQUENCE_PERPLEXITY), rel=REL)
    assert sum(per_sequence) / 2 == pytest.approx(V20_MEAN_PERPLEXITY, rel=REL)
    corpus = math.exp(_mean(from_request("sparse", V20_BODY)))
    assert corpus == pytest.approx(V20_CORPUS_PERPLEXITY, rel=REL)


def _mean(result: Reference) -> float:
    loss = result.loss("mean")
    assert loss is not None
    return loss


def test_statistics_follow_the_contract_definitions() -> None:
    # By hand: w = s·cw[y]·[y ≠ ignore] = [0.2, 0, 6, 0]: Σ 6.2, three counted, two non-zero.
    result = sparse(
        [[0.0, 0.0, 0.0]] * 4,
        [0, -1, 2, 1],
        sample_weight=[1.0, 5.0, 2.0, 0.0],
        class_weight=[0.2, 1.0, 3.0],
        ignore_index=-1,
    )
    log3 = math.log(3.0)
    assert result.losses.tolist() == pytest.approx([0.2 * log3, 0.0, 6.0 * log3, 0.0])
    assert result.loss_sum == pytest.approx(6.2 * log3)
    assert (result.weight_sum, result.count, result.nonzero_weight_count) == (
        pytest.approx(6.2),
        3,
        2,
    )
    assert result.loss("mean") == pytest.approx(log3)
    assert result.loss("sum_over_batch_size") == pytest.approx(6.2 * log3 / 3)
    assert result.loss("sum_by_nonzero_weights") == pytest.approx(6.2 * log3 / 2)
    assert result.loss("none") is None


def test_sample_weight_broadcasts_with_numpy_rules() -> None:
    logits = np.zeros((2, 3, 4))
    labels = np.zeros((2, 3), dtype=int)
    result = categorical(logits, np.eye(4)[labels], sample_weight=[[1.0], [3.0]])
    expected = np.log(4.0) * np.array([[1.0] * 3, [3.0] * 3])
    assert result.losses == pytest.approx(expected)
    assert result.weight_sum == 12.0
    with pytest.raises(ValueError, match="broadcast"):
        sparse(logits, labels, sample_weight=[1.0, 3.0])


def test_rank_one_is_one_example_and_squeezed_labels_are_accepted() -> None:
    single = sparse([0.0, 0.0], 1)
    assert single.shape == []
    assert float(single.losses) == pytest.approx(math.log(2.0))
    assert sparse([[0.0, 0.0]], [[1]]).shape == [1]


def test_masked_classes_stay_finite() -> None:
    # 0·(−inf) for an untargeted −inf class is 0, as the contract's "masked classes" require.
    result = categorical([[-np.inf, 0.0, 0.0]], [[0.0, 0.5, 0.5]])
    assert result.losses.tolist() == pytest.approx([math.log(2.0)])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int32", "int64"])
def test_tensor_round_trip(dtype: str) -> None:
    values = [[1.0, -2.0, 3.0], [0.0, 7.0, -8.0]]
    assert decode(tensor(values, dtype)).tolist() == values


def test_bfloat16_rounds_to_nearest_even() -> None:
    # 1 + 2⁻⁸ is halfway between bfloat16 neighbours 1 and 1 + 2⁻⁷: ties go to the even one (1).
    assert rounded([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20], "bfloat16").tolist() == [
        1.0,
        1 + 2**-6,
        1 + 2**-7,
    ]


def test_scalar_tensor_keeps_shape() -> None:
    scalar = tensor(5, "int64")
    assert scalar["shape"] == []
    assert decode(scalar).tolist() == 5
