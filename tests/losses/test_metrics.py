"""Metrics beside the loss: the published numbers of semantics-binary-metrics.md §C, the contract's
rules (ties, bins, overflow), the float64 reference on random data, and exact combination."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import metric_reference as mref

from service.losses import LossInputError, categorical_cross_entropy, sparse_cross_entropy
from service.losses.metrics import (
    SOFTMAX_METRICS,
    binary_metrics,
    calibration_slots,
    combine_statistics,
    metric_value,
)

ALL = SOFTMAX_METRICS


def values(result: object) -> dict[str, float | None]:
    return {name: m.value for name, m in result.metrics.items()}  # type: ignore[attr-defined]


# --- §C.1, C.2: ties ----------------------------------------------------------------------------------

C1_SCORES = np.array([[0.4, 0.4, 0.2], [0.1, 0.3, 0.3], [-0.0, 0.0, -1.0], [0.1, 0.2, 0.7]], np.float32)
C1_TARGETS = np.array([1, 2, 1, 2])  # C.1 rows 0, 1, 2, 5 (the rows without NaN)


def test_c1_accuracy_takes_the_first_maximum_and_top1_counts_ties() -> None:
    r = sparse_cross_entropy(C1_SCORES, C1_TARGETS, metrics=["accuracy", "top_k_accuracy"], top_k=1)
    # np.argmax / torch.argmax: [0, 1, 0, 2] (−0.0 == +0.0) → only the last row is right.
    assert r.metrics["accuracy"].statistics == {"correct": 1.0, "total": 4.0}
    assert r.metrics["accuracy"].value == 0.25
    # Keras sparse_top_k_categorical_accuracy(k=1) on these rows: [1, 1, 1, 1].
    assert r.metrics["top_k_accuracy"].value == 1.0
    assert r.metrics["top_k_accuracy"].statistics["k"] == 1


C2_SCORES = np.array(
    [
        [0.5, 0.2, 0.2, 0.1],
        [0.5, 0.2, 0.2, 0.1],
        [0.3, 0.3, 0.3, 0.1],
        [0.3, 0.3, 0.3, 0.1],
        [0.3, 0.3, 0.3, 0.1],
        [0.1, 0.2, 0.3, 0.4],
    ],
    np.float32,
)
C2_TARGETS = np.array([1, 2, 0, 1, 2, 0])


@pytest.mark.parametrize("from_logits", [True, False])
def test_c2_top_k_is_inclusive_like_in_top_k(from_logits: bool) -> None:
    scores = C2_SCORES if from_logits else C2_SCORES / C2_SCORES.sum(axis=1, keepdims=True)
    r = sparse_cross_entropy(scores, C2_TARGETS, from_logits=from_logits, metrics=["top_k_accuracy"], top_k=2)
    # tf.math.in_top_k(k=2): [1, 1, 1, 1, 1, 0]; Keras SparseTopKCategoricalAccuracy(k=2): 0.8333333.
    assert r.metrics["top_k_accuracy"].statistics == {"k": 2, "hits": 5.0, "total": 6.0}
    assert r.metrics["top_k_accuracy"].value == pytest.approx(0.8333333, rel=1e-7)


def test_k_at_least_the_number_of_classes_always_hits() -> None:
    r = sparse_cross_entropy(C2_SCORES, C2_TARGETS, metrics=["top_k_accuracy"], top_k=4)
    assert r.metrics["top_k_accuracy"].value == 1.0
    r = sparse_cross_entropy(C2_SCORES, C2_TARGETS, metrics=["top_k_accuracy"], top_k=1000)
    assert r.metrics["top_k_accuracy"].value == 1.0


def test_c3_accuracy_is_micro() -> None:
    predicted, targets = [0, 0, 0, 0, 1, 2, 2, 1], [0, 0, 0, 1, 1, 2, 0, 2]
    logits = np.eye(3)[predicted] * 5.0
    r = sparse_cross_entropy(logits, np.array(targets), metrics=["accuracy"])
    assert r.metrics["accuracy"].value == 0.625  # torchmetrics average=micro; macro would be 0.5833334
    r = categorical_cross_entropy(logits, np.eye(3)[targets], metrics=["accuracy"])
    assert r.metrics["accuracy"].value == 0.625


def test_categorical_target_is_the_first_maximum_of_the_target_row() -> None:
    # Keras categorical_accuracy with multi-hot rows: only the first positive counts (§D: [1.0, 0.0]).
    logits = np.array([[1.0, -1.0, 0.5], [0.2, 0.1, -0.3]])
    targets = np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    r = categorical_cross_entropy(logits, targets, metrics=["accuracy"])
    assert r.metrics["accuracy"].statistics == {"correct": 1.0, "total": 2.0}


# --- §C.4 perplexity ------------------------------------------------------------------------------------

C4_LOGITS = np.array(
    [
        [[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [3.0, -3.0, 0.0, 1.0]],
        [[0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0], [-1.0, 5.0, 0.0, 0.0]],
    ]
)
C4_TARGETS = np.array([[0, 3, -100], [2, 3, 1]])


def test_c4_perplexity_with_ignored_tokens() -> None:
    r = sparse_cross_entropy(C4_LOGITS, C4_TARGETS, ignore_index=-100, metrics=["perplexity"])
    m = r.metrics["perplexity"]
    assert m.value == pytest.approx(1.9846440457502494, rel=1e-14)  # exp(F.cross_entropy) float64
    assert m.statistics["nll_sum"] == pytest.approx(3.427198, rel=1e-6)  # torchmetrics' state
    assert m.statistics["total"] == 5.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_c4_log_prob_minus_120_is_finite(dtype: type) -> None:
    # torchmetrics (softmax, then log) gives inf; the true value is 1.6150423390076403e+26.
    logits = np.array([[[0.0, -120.0], [0.0, 0.0]]], dtype=dtype)
    r = sparse_cross_entropy(logits, np.array([[1, 0]]), metrics=["perplexity"])
    assert r.metrics["perplexity"].value == pytest.approx(1.6150423390076403e26, rel=1e-12)


def test_perplexity_overflow_is_null_with_a_warning_and_statistics() -> None:
    r = sparse_cross_entropy(np.array([[0.0, -2000.0]]), np.array([1]), metrics=["perplexity"])
    m = r.metrics["perplexity"]
    assert m.value is None
    assert m.statistics["nll_sum"] == pytest.approx(2000.0, rel=1e-15)
    assert m.statistics["total"] == 1.0
    assert [w.code for w in r.warnings] == ["perplexity_overflow"]


# --- §C.5 calibration ----------------------------------------------------------------------------------

C5_PROBS = np.array(
    [
        [0.4, 0.3, 0.3],
        [0.6, 0.2, 0.2],
        [0.2, 0.8, 0.0],
        [1.0, 0.0, 0.0],
        [0.05, 0.95, 0.0],
        [0.7, 0.2, 0.1],
        [0.1, 0.2, 0.7],
        [0.35, 0.34, 0.31],
    ]
)
C5_TARGETS = np.array([0, 1, 1, 0, 0, 0, 1, 2])


def test_c5_calibration_uses_float64_floor_bins() -> None:
    r = sparse_cross_entropy(C5_PROBS, C5_TARGETS, from_logits=False, metrics=["calibration_error"])
    m = r.metrics["calibration_error"]
    # torchmetrics' counts are [0,0,0,0,0,2,0,0,0,1,2,0,1,0,1,1]: its float32 edge 0.40000004 puts 0.4 in
    # bin 5; the contract's ⌊0.4·15⌋ = 6 puts it one bin up (the documented difference).
    expected_count = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 2, 0, 1, 0, 1, 1]
    assert m.statistics["count"].tolist() == expected_count
    assert m.statistics["correct_sum"].tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1]
    # Σ_b |Σacc − Σconf| / N from the contract rule: (0.35 + 0.6 + 0.6 + 0.4 + 0.2 + 0.95 + 0) / 8.
    assert m.value == pytest.approx(3.1 / 8, rel=1e-14)
    reference = mref.sparse_metrics(C5_PROBS, C5_TARGETS, from_logits=False)["calibration_error"]
    assert m.value == pytest.approx(reference[0], rel=1e-14)


def test_c5_binary_calibration_agrees_with_torchmetrics() -> None:
    warnings: list = []
    r = binary_metrics(
        ["calibration_error"], np.array([0.9, 0.2, 0.6, 0.4]), np.array([1, 0, 0, 1]), warnings=warnings
    )
    assert r["calibration_error"].value == pytest.approx(0.375, rel=1e-15)  # BinaryCalibrationError


def test_values_on_edges_go_up_and_one_has_its_own_slot() -> None:
    confidence = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, np.nextafter(1.0, 0.0)])
    assert calibration_slots(confidence, 5).tolist() == [0, 1, 2, 3, 4, 5, 4]
    assert calibration_slots(np.array([0.5, 1.0]), 1).tolist() == [0, 1]


# --- §C.6 Brier, §C.7 threshold ----------------------------------------------------------------------------

C6_P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
C6_Y = np.array([0, 1, 2, 1])


@pytest.mark.parametrize("from_logits", [False, True])
def test_c6_multiclass_brier(from_logits: bool) -> None:
    predictions = np.log(C6_P) if from_logits else C6_P
    for r in (
        sparse_cross_entropy(predictions, C6_Y, from_logits=from_logits, metrics=["brier_score"]),
        categorical_cross_entropy(
            predictions, np.eye(3)[C6_Y], from_logits=from_logits, metrics=["brier_score"]
        ),
    ):
        assert r.metrics["brier_score"].value == pytest.approx(0.33999999999999997, rel=1e-14)


def test_c6_binary_brier_is_sklearns_binary_form() -> None:
    p, y = np.array([0.9, 0.1, 0.6, 0.35, 0.5]), np.array([1, 0, 1, 1, 0])
    r = binary_metrics(["brier_score"], p, y, warnings=[])
    assert r["brier_score"].value == pytest.approx(0.1705, rel=1e-14)
    w = np.array([1.0, 2.0, 1.0, 0.0, 3.0])
    r = binary_metrics(["brier_score"], p, y, w, warnings=[])
    assert r["brier_score"].value == pytest.approx(0.13428571428571429, rel=1e-14)


def test_c7_binary_accuracy_threshold_is_strict() -> None:
    p = np.array([0.5, 0.5000001, 0.49, 1.0, 0.0, 0.7])
    y = np.array([1, 1, 0, 1, 0, 0])
    r = binary_metrics(["accuracy"], p, y, warnings=[])
    assert r["accuracy"].value == pytest.approx(0.6666667, rel=1e-7)  # torchmetrics BinaryAccuracy
    assert r["accuracy"].statistics == {"correct": 4.0, "total": 6.0}
    r = binary_metrics(["accuracy"], p, y, threshold=0.495, warnings=[])
    assert r["accuracy"].statistics["correct"] == 5.0  # 0.5 is now positive, 0.49 still not


def test_binary_masked_elements_are_left_out_and_soft_labels_need_brier_only() -> None:
    p, y = np.array([[0.9, 0.3], [0.2, 0.6]]), np.array([[1.0, -1.0], [0.0, 0.5]])
    mask = np.array([[True, False], [True, True]])
    r = binary_metrics(["brier_score"], p, y, np.array([[2.0], [1.0]]), mask=mask, warnings=[])
    assert r["brier_score"].statistics == pytest.approx({"sum": 2 * 0.01 + 0.04 + 0.01, "total": 4.0})
    with pytest.raises(LossInputError) as caught:
        binary_metrics(["calibration_error"], p, y, mask=mask, warnings=[])
    assert caught.value.code == "invalid_labels"
    assert caught.value.issues[0].index == (1, 1)
    assert "calibration_error" in caught.value.message


# --- zero totals, errors ---------------------------------------------------------------------------------


def test_zero_total_gives_null_values_with_a_warning_naming_each() -> None:
    r = sparse_cross_entropy(np.zeros((2, 3)), np.array([-1, -1]), ignore_index=-1, metrics=ALL)
    assert all(value is None for value in values(r).values())
    codes = [(w.code, w.message.split(":")[0]) for w in r.warnings if w.code == "zero_denominator"]
    assert {name for _, name in codes} == set(ALL) - {"perplexity"} | {"perplexity"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"metrics": ["accuracy", "f1"]}, "metrics"),
        ({"metrics": ["accuracy", "accuracy"]}, "metrics"),
        ({"metrics": ["accuracy"], "top_k": 0}, "top_k"),
        ({"metrics": ["calibration_error"], "calibration_bins": 1001}, "calibration_bins"),
        ({"metrics": ["calibration_error"], "calibration_bins": 0}, "calibration_bins"),
        ({"top_k": 2.5}, "top_k"),
    ],
)
def test_bad_metric_options(options: dict, field: str) -> None:
    with pytest.raises(LossInputError) as caught:
        sparse_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), **options)
    assert caught.value.code == "invalid_field"
    assert caught.value.issues[0].field == field
    if field == "metrics":
        assert caught.value.issues[0].index == (1,)
        assert "top_k_accuracy" in caught.value.message  # names the allowed ones


def test_binary_rejects_softmax_only_metrics() -> None:
    with pytest.raises(ValueError, match="not a binary metric"):
        binary_metrics(["perplexity"], np.array([0.5]), np.array([1]), warnings=[])


# --- the float64 reference on random data; exact combination ----------------------------------------------


def _assert_like_reference(got: dict, expected: dict, rel: float) -> None:
    for name, (value, stats) in expected.items():
        result = got[name]
        assert (result.value is None) == (value is None), name
        if value is not None:
            assert result.value == pytest.approx(value, rel=rel, abs=1e-12), name
        for key, want in stats.items():
            assert np.asarray(result.statistics[key], dtype=np.float64) == pytest.approx(
                np.asarray(want), rel=rel, abs=1e-9
            ), (name, key)


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 12),
    classes=st.integers(1, 7),
    k=st.integers(1, 8),
    bins=st.integers(1, 20),
    ties=st.booleans(),
)
def test_sparse_matches_the_reference_on_random_data(
    data: st.DataObject, rows: int, classes: int, k: int, bins: int, ties: bool
) -> None:
    elements = st.integers(-3, 3).map(float) if ties else st.floats(-30, 30, allow_subnormal=False)
    logits = data.draw(hnp.arrays(np.float64, (rows, classes), elements=elements))
    labels = data.draw(hnp.arrays(np.int64, rows, elements=st.integers(-1, classes - 1)))
    weights = data.draw(hnp.arrays(np.float64, rows, elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])))
    r = sparse_cross_entropy(
        logits, labels, ignore_index=-1, sample_weight=weights, metrics=ALL, top_k=k, calibration_bins=bins
    )
    expected = mref.sparse_metrics(logits, labels, sample_weight=weights, ignore_index=-1, k=k, bins=bins)
    _assert_like_reference(r.metrics, expected, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rows=st.integers(1, 10), classes=st.integers(2, 6), smoothing=st.booleans())
def test_categorical_and_probabilities_match_the_reference(
    data: st.DataObject, rows: int, classes: int, smoothing: bool
) -> None:
    logits = data.draw(hnp.arrays(np.float64, (rows, classes), elements=st.floats(-8, 8)))
    raw = data.draw(hnp.arrays(np.float64, (rows, classes), elements=st.floats(0.01, 1)))
    targets = raw / raw.sum(axis=1, keepdims=True)
    options = {"label_smoothing": 0.1 if smoothing else 0.0, "class_weight": np.linspace(0.5, 2, classes)}
    # Class weights and smoothing shape the loss only: the metrics are unchanged by them.
    r = categorical_cross_entropy(logits, targets, metrics=ALL, top_k=2, **options)
    _assert_like_reference(r.metrics, mref.categorical_metrics(logits, targets, k=2), rel=1e-9)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.argmax(targets, axis=1)
    r = sparse_cross_entropy(probs, labels, from_logits=False, metrics=ALL, top_k=2, **options)
    expected = mref.sparse_metrics(probs, labels, from_logits=False, k=2)
    _assert_like_reference(r.metrics, expected, rel=1e-9)


def test_float32_metrics_stay_within_float32_tolerance() -> None:
    rng = np.random.default_rng(7)
    logits = (rng.standard_normal((300, 50)) * 3).astype(np.float32)
    labels = rng.integers(0, 50, 300)
    r = sparse_cross_entropy(logits, labels, metrics=ALL)
    expected = mref.sparse_metrics(logits.astype(np.float64), labels)
    for name, (value, _) in expected.items():
        assert r.metrics[name].value == pytest.approx(value, rel=1e-5, abs=1e-6), name


@settings(max_examples=25, deadline=None)
@given(data=st.data(), rows=st.integers(2, 16), cut=st.integers(1, 15), categorical=st.booleans())
def test_statistics_of_any_split_sum_to_the_whole(
    data: st.DataObject, rows: int, cut: int, categorical: bool
) -> None:
    cut = min(cut, rows - 1)
    logits = data.draw(hnp.arrays(np.float64, (rows, 4), elements=st.integers(-4, 4).map(float)))
    labels = data.draw(hnp.arrays(np.int64, rows, elements=st.integers(0, 3)))
    weights = data.draw(hnp.arrays(np.float64, rows, elements=st.sampled_from([0.0, 0.25, 1.0, 2.0])))

    def run(at: slice) -> dict:
        options = {"sample_weight": weights[at], "metrics": ALL, "top_k": 2, "calibration_bins": 7}
        if categorical:
            return categorical_cross_entropy(logits[at], np.eye(4)[labels[at]], **options).metrics
        return sparse_cross_entropy(logits[at], labels[at], **options).metrics

    whole, parts = run(slice(None)), [run(slice(None, cut)), run(slice(cut, None))]
    for name in ALL:
        combined = combine_statistics(name, [part[name].statistics for part in parts])
        for key, value in whole[name].statistics.items():
            assert np.asarray(combined[key]) == pytest.approx(np.asarray(value), rel=1e-12, abs=1e-12)
        expected = whole[name].value
        got = metric_value(name, combined)
        assert got == (None if expected is None else pytest.approx(expected, rel=1e-12, abs=1e-15))


def test_combining_rejects_different_k() -> None:
    with pytest.raises(ValueError, match="disagree on k"):
        combine_statistics(
            "top_k_accuracy", [{"k": 1, "hits": 1.0, "total": 1.0}, {"k": 2, "hits": 1.0, "total": 1.0}]
        )


def test_metrics_change_nothing_in_the_loss() -> None:
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((40, 9))
    labels = rng.integers(0, 9, 40)
    plain = sparse_cross_entropy(logits, labels, reduction="none")
    with_metrics = sparse_cross_entropy(logits, labels, reduction="none", metrics=ALL)
    np.testing.assert_allclose(with_metrics.losses, plain.losses, rtol=1e-14)
    assert math.isclose(with_metrics.loss_sum, plain.loss_sum, rel_tol=1e-14)
