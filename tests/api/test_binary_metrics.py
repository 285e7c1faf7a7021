"""Metrics on the binary endpoint, against the published numbers (torchmetrics, sklearn) of the reference
document's §C, and the contract's rules for soft labels and masked elements."""

from __future__ import annotations

import pytest
from reference.inprocess import InProcessClient

BINARY = "/v1/cross-entropy/binary"


def test_accuracy_is_strict_at_the_threshold(api_client: InProcessClient) -> None:
    # torchmetrics BinaryAccuracy(threshold=0.5): 0.6666667 (0.5 itself is predicted negative).
    body = {
        "probabilities": [0.5, 0.5000001, 0.49, 1.0, 0.0, 0.7],
        "labels": [1, 1, 0, 1, 0, 0],
        "metrics": ["accuracy"],
    }
    accuracy = api_client.post(BINARY, json=body).json()["metrics"]["accuracy"]
    assert accuracy == {"value": pytest.approx(4 / 6, rel=1e-15), "correct": 4.0, "total": 6.0}


def test_accuracy_from_logits_thresholds_the_sigmoid(api_client: InProcessClient) -> None:
    # σ(0) = 0.5 is not > 0.5; σ(2) and σ(-1) are decided as torchmetrics does after its sigmoid.
    body = {"logits": [0.0, 2.0, -1.0], "labels": [1, 1, 0], "metrics": ["accuracy"], "threshold": 0.5}
    assert api_client.post(BINARY, json=body).json()["metrics"]["accuracy"]["value"] == pytest.approx(2 / 3)


def test_calibration_error_matches_torchmetrics_binary(api_client: InProcessClient) -> None:
    body = {"probabilities": [0.9, 0.2, 0.6, 0.4], "labels": [1, 0, 0, 1], "metrics": ["calibration_error"]}
    metric = api_client.post(BINARY, json=body).json()["metrics"]["calibration_error"]
    assert metric["value"] == pytest.approx(0.375, rel=1e-12)  # BinaryCalibrationError(n_bins=15, l1)
    assert len(metric["bins"]) == 16


def test_brier_score_matches_sklearn_binary(api_client: InProcessClient) -> None:
    body = {
        "probabilities": [0.9, 0.1, 0.6, 0.35, 0.5],
        "labels": [1, 0, 1, 1, 0],
        "metrics": ["brier_score"],
    }
    assert api_client.post(BINARY, json=body).json()["metrics"]["brier_score"]["value"] == pytest.approx(
        0.1705, rel=1e-12
    )
    weighted = {**body, "sample_weight": [1.0, 2.0, 1.0, 0.0, 3.0]}
    assert api_client.post(BINARY, json=weighted).json()["metrics"]["brier_score"]["value"] == pytest.approx(
        0.13428571428571429, rel=1e-12
    )


def test_masked_labels_are_left_out_of_every_metric(api_client: InProcessClient) -> None:
    body = {
        "probabilities": [[0.9, 0.2], [0.6, 0.4]],
        "labels": [[1, -1], [0, 1]],
        "ignore_index": -1,
        "metrics": ["accuracy", "brier_score"],
    }
    metrics = api_client.post(BINARY, json=body).json()["metrics"]
    assert metrics["accuracy"]["total"] == 3.0
    assert metrics["accuracy"]["correct"] == 1.0  # 0.9 → 1 right; 0.6 → 1 wrong; 0.4 → 0 wrong
    assert metrics["brier_score"]["sum"] == pytest.approx(0.01 + 0.36 + 0.36, rel=1e-12)


def test_soft_labels_with_accuracy_are_invalid_labels_at_the_first(api_client: InProcessClient) -> None:
    body = {"logits": [[0.3, -1.0], [2.0, 0.5]], "labels": [[1, 0], [0.7, 1]], "metrics": ["accuracy"]}
    response = api_client.post(BINARY, json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_labels"
    assert problem["errors"][0]["pointer"] == "/labels/1/0"
    assert "accuracy" in problem["detail"]


def test_top_k_is_not_a_binary_metric(api_client: InProcessClient) -> None:
    body = {"logits": [0.3], "labels": [1], "metrics": ["top_k_accuracy"]}
    response = api_client.post(BINARY, json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["pointer"] == "/metrics/0"
    assert "brier_score" in problem["detail"]
    assert api_client.post(BINARY, json={**body, "metrics": [], "top_k": 3}).status_code == 422
