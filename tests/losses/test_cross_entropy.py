"""The numerical core as a library: agreement with the float64 reference, stability, invariants, errors."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import numpy_reference as ref

import service.losses
from service.losses import (
    LossInputError,
    categorical,
    categorical_cross_entropy,
    rows,
    sparse,
    sparse_cross_entropy,
)

RNG = np.random.default_rng(20261201)


def test_docstring_examples_run() -> None:
    for module in (service.losses, sparse, categorical):
        assert doctest.testmod(module, raise_on_error=True).failed == 0


@pytest.mark.parametrize("shape", [(300, 10), (64, 1000), (8, 50, 300), (3, 2000)])
def test_float32_stays_within_float32_tolerance_of_the_float64_reference(shape: tuple[int, ...]) -> None:
    # Blocks of BLOCK_ELEMENTS split these shapes mid-batch, so block boundaries are covered too.
    logits = (RNG.standard_normal(shape) * 4).astype(np.float32)
    labels = RNG.integers(0, shape[-1], shape[:-1])
    expected = ref.sparse(logits.astype(np.float64), labels)
    got = sparse_cross_entropy(logits, labels, reduction="none")
    assert got.precision == "float32"
    np.testing.assert_allclose(got.losses, expected.losses, rtol=2e-6, atol=1e-6)
    assert got.loss_sum == pytest.approx(expected.loss_sum, rel=1e-6)
    targets = RNG.dirichlet(np.ones(shape[-1]), shape[:-1])
    expected = ref.categorical(logits.astype(np.float64), targets)
    got = categorical_cross_entropy(logits, targets, reduction="none")
    np.testing.assert_allclose(got.losses, expected.losses, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("classes", [5, 63, 64, 1000, 70_000])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_a_loss_does_not_depend_on_its_batch(classes: int, smoothing: float) -> None:
    # Bit for bit: what a request gets for an example cannot depend on the examples sent with it,
    # or per-request statistics would not combine into the whole's exactly.
    rows = max(3, 3 * rows_per_block(classes) // 2)  # spans a block boundary
    logits = (RNG.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = RNG.integers(0, classes, rows)
    targets = RNG.dirichlet(np.ones(classes), rows).astype(np.float32)
    for picked in ([0], [rows - 1], [1, rows - 2]):
        for loss, y in ((sparse_cross_entropy, labels), (categorical_cross_entropy, targets)):
            whole = loss(logits, y, label_smoothing=smoothing, reduction="none").losses
            alone = loss(logits[picked], y[picked], label_smoothing=smoothing, reduction="none").losses
            np.testing.assert_array_equal(alone, whole[picked])


def rows_per_block(classes: int) -> int:
    return max(1, rows.BLOCK_ELEMENTS // classes)


def test_blocks_are_seamless() -> None:
    classes = 7
    logits = RNG.standard_normal((rows.BLOCK_ELEMENTS // classes * 3 + 5, classes))
    labels = RNG.integers(0, classes, len(logits))
    expected = ref.sparse(logits, labels, label_smoothing=0.2)
    got = sparse_cross_entropy(logits, labels, label_smoothing=0.2, reduction="none")
    np.testing.assert_allclose(got.losses, expected.losses, rtol=1e-12)


@pytest.mark.parametrize(
    ("row", "label", "expected"),
    [
        ([3.4e38, 3.4e38, 0.0], 0, np.log(2.0)),  # optax returns 0.0 here (semantics.md §6)
        ([1000.0, 0.0, -1000.0], 2, 2000.0),
        ([-np.inf, 0.0, 1.0], 1, 1.313262),  # a masked class
        ([1e30, 0.0, -1e30], 1, 1e30),
    ],
)
def test_extreme_finite_rows_in_float32(row: list[float], label: int, expected: float) -> None:
    got = sparse_cross_entropy(np.array([row], dtype=np.float32), np.array([label]))
    assert got.loss == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "row",
    [
        [30.0, 0.0, 0.0],  # confident: the loss, about 1.9e-13, is far below float32's epsilon
        [10.0, -5.0, 3.0],
        [-100.0, -100.5, -101.0],  # exp of every logit underflows float32
        [100.0, 0.0, 99.0],  # exp of the logits overflows float32
    ],
)
def test_float32_losses_keep_their_relative_accuracy(row: list[float]) -> None:
    # Written from the formula: the target's term exp(0) = 1 is added to the others' sum exactly.
    others = np.array(row[1:], dtype=np.float64) - row[0]
    expected = np.log1p(np.exp(others).sum())
    logits = np.array([row], dtype=np.float32)
    assert sparse_cross_entropy(logits, np.array([0])).loss == pytest.approx(expected, rel=1e-6)
    one_hot = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    assert categorical_cross_entropy(logits, one_hot).loss == pytest.approx(expected, rel=1e-6)


def test_float32_wide_rows_keep_the_relative_accuracy_of_a_confident_loss() -> None:
    # 128 000 classes summed in float32 (a BLAS dot per row): about 1e-6 relative (documented), for a
    # loss of about 1e-6 itself; the reference sums the same float32 logits in float64.
    logits = (np.random.default_rng(7).standard_normal((2, 128_000)) * 3).astype(np.float32)
    logits[:, 5] = 30.0
    others = np.delete(logits.astype(np.float64), 5, axis=1) - 30.0
    expected = np.array([math.log1p(math.fsum(np.exp(row))) for row in others])
    got = sparse_cross_entropy(logits, np.array([5, 5]), reduction="none").losses
    np.testing.assert_allclose(got, expected, rtol=5e-6)
    one_hot = np.zeros_like(logits)
    one_hot[:, 5] = 1.0
    got = categorical_cross_entropy(logits, one_hot, reduction="none").losses
    np.testing.assert_allclose(got, expected, rtol=5e-6)


def test_float32_smoothing_keeps_accuracy_when_a_wrong_class_dominates() -> None:
    # Found by hypothesis: log s and the weighted logits are ~11 each and the loss ~0.1, so any form
    # that subtracts them loses digits in float32; every class's -log p must be summed as non-negatives.
    logits = np.array([[1.0, 0.0, -1.1097887754440308, 11.0]])
    weights = [0.0078125, 0.001, 0.001953125, 1.1025340191486017]
    expected = ref.sparse(logits, np.array([0]), class_weight=weights, label_smoothing=1.0)
    got = sparse_cross_entropy(
        logits, np.array([0]), class_weight=weights, label_smoothing=1.0, precision="float32"
    )
    assert got.loss == pytest.approx(expected.loss("mean"), rel=1e-6)


def test_differences_beyond_float64_are_an_error_not_infinity() -> None:
    with pytest.raises(LossInputError) as caught:
        sparse_cross_entropy(np.array([[1.7e308, -1.7e308]]), np.array([1]))
    assert caught.value.code == "non_finite_value"


@settings(max_examples=150, deadline=None)
@given(
    logits=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 9)),
        elements=st.floats(-50, 50, allow_nan=False),
    ),
    shift=st.floats(-1e4, 1e4, allow_nan=False),
    smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    data=st.data(),
)
def test_adding_a_constant_to_a_row_changes_nothing(
    logits: np.ndarray, shift: float, smoothing: float, data: st.DataObject
) -> None:
    labels = data.draw(hnp.arrays(np.int64, logits.shape[:1], elements=st.integers(0, logits.shape[1] - 1)))
    base = sparse_cross_entropy(logits, labels, label_smoothing=smoothing, reduction="none")
    moved = sparse_cross_entropy(logits + shift, labels, label_smoothing=smoothing, reduction="none")
    # Adding `shift` rounds each logit to within ulp(shift); the loss moves by at most a few of those.
    tolerance = 8 * np.spacing(abs(shift) + 50) + 1e-12
    np.testing.assert_allclose(moved.losses, base.losses, rtol=0, atol=tolerance)


@settings(max_examples=100, deadline=None)
@given(
    logits=hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 8), st.integers(1, 5)),
        elements=st.floats(-20, 20, allow_nan=False),
    ),
    data=st.data(),
)
def test_reductions_are_the_statistics_ratios(logits: np.ndarray, data: st.DataObject) -> None:
    n, c = logits.shape
    labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(-1, c - 1)))
    weights = data.draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])))
    stats = sparse_cross_entropy(logits, labels, ignore_index=-1, sample_weight=weights, reduction="none")
    assert stats.loss_sum == pytest.approx(float(np.sum(stats.losses)), rel=1e-12, abs=1e-300)
    for reduction, denominator in [
        ("mean", stats.weight_sum),
        ("sum_over_batch_size", stats.count),
        ("sum_by_nonzero_weights", stats.nonzero_weight_count),
    ]:
        loss = sparse_cross_entropy(
            logits, labels, ignore_index=-1, sample_weight=weights, reduction=reduction
        ).loss  # type: ignore[arg-type]
        if denominator == 0:
            assert loss is None
        else:
            assert loss == pytest.approx(stats.loss_sum / denominator, rel=1e-12)
    assert np.all(stats.losses[labels == -1] == 0.0)
    assert np.all(stats.losses[weights == 0] == 0.0)


def test_class_axis_one_is_pytorch_layout() -> None:
    logits = RNG.standard_normal((3, 5, 4))  # (N, C, T)
    labels = RNG.integers(0, 5, (3, 4))
    channels_last = sparse_cross_entropy(np.moveaxis(logits, 1, -1), labels, reduction="none")
    torch_layout = sparse_cross_entropy(logits, labels, axis=1, reduction="none")
    np.testing.assert_array_equal(torch_layout.losses, channels_last.losses)


def test_half_precision_is_computed_in_float32() -> None:
    logits = np.array([[2.0, 1.0, 0.1]], dtype=np.float16)
    result = sparse_cross_entropy(logits, np.array([0]))
    assert result.precision == "float32"
    # semantics.md V18: the float64 loss of the float16-rounded inputs.
    assert result.loss == pytest.approx(0.4170276, rel=1e-6)


def test_errors_name_the_element_in_the_caller_s_layout() -> None:
    logits = np.zeros((2, 3, 4))  # (N, C, T) with axis=1
    logits[1, 2, 3] = np.nan
    with pytest.raises(LossInputError) as caught:
        sparse_cross_entropy(logits, np.zeros((2, 4), dtype=np.int64), axis=1)
    assert caught.value.issues[0].index == (1, 2, 3)
    assert "logits[1, :, 3]" in caught.value.message


def test_a_row_of_minus_infinity_is_fine_when_ignored() -> None:
    logits = np.array([[0.0, 1.0], [-np.inf, -np.inf]])
    result = sparse_cross_entropy(logits, np.array([1, -100]), ignore_index=-100, reduction="none")
    assert result.losses[1] == 0.0
    assert result.count == 1


def test_masked_class_without_target_mass_is_zero_not_nan() -> None:
    logits = np.array([[-np.inf, 0.0, 1.0]])
    result = categorical_cross_entropy(logits, np.array([[0.0, 0.5, 0.5]]))
    expected = -0.5 * (np.log(np.exp(0) / (1 + np.e)) + np.log(np.e / (1 + np.e)))
    assert result.loss == pytest.approx(expected, rel=1e-12)


def test_weighted_sums_beyond_float64_are_an_error_not_infinity() -> None:
    with pytest.raises(LossInputError) as caught:
        sparse_cross_entropy(
            np.array([[0.0, 1.0]] * 2), np.array([0, 0]), sample_weight=np.array([1e308, 1e308])
        )
    assert caught.value.code == "invalid_weight"
    with pytest.raises(LossInputError) as caught:
        sparse_cross_entropy(
            np.array([[1e308, -1e308]] * 2), np.array([1, 1]), sample_weight=np.array([1e10, 1])
        )
    assert caught.value.code == "non_finite_value"


def test_a_target_class_weighted_zero_contributes_nothing_even_with_smoothing() -> None:
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    result = sparse_cross_entropy(
        logits, np.array([0, 1]), class_weight=[0.0, 1.0, 3.0], label_smoothing=0.1, reduction="none"
    )
    expected = ref.sparse(logits, np.array([0, 1]), class_weight=[0.0, 1.0, 3.0], label_smoothing=0.1)
    assert result.losses[0] == 0.0
    assert result.losses[1] == pytest.approx(expected.losses[1], rel=1e-12)
    assert result.nonzero_weight_count == 1
