"""Metrics over HTTP: the response form (bins), the float64 reference, /v1/info, and one test per error."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import orjson
import pytest
from reference import metric_reference as mref
from reference.inprocess import InProcessClient
from reference.tensor import tensor

from service.api.evaluation import evaluate as evaluate_body
from service.api.problems import ProblemError
from service.config import Settings
from service.families import SPARSE as SPARSE_FAMILY

SPARSE = "/v1/cross-entropy/sparse"
CATEGORICAL = "/v1/cross-entropy/categorical"
ALL = ["accuracy", "top_k_accuracy", "perplexity", "calibration_error", "brier_score"]
RNG = np.random.default_rng(1311)


def post(client: InProcessClient, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(path, json=body)
    payload: dict[str, Any] = response.json()
    return response.status_code, payload


def assert_like_reference(metrics: dict[str, Any], expected: dict[str, Any], rel: float) -> None:
    assert set(metrics) == set(expected)
    for name, (value, stats) in expected.items():
        got = metrics[name]
        assert got["value"] == (None if value is None else pytest.approx(value, rel=rel)), name
        if name == "calibration_error":
            assert len(got["bins"]) == len(stats["count"])
            for key in ("count", "confidence_sum", "correct_sum"):
                column = [slot[key] for slot in got["bins"]]
                assert column == pytest.approx(stats[key], rel=rel, abs=1e-12), key
        else:
            assert {k: v for k, v in got.items() if k != "value"} == pytest.approx(stats, rel=rel)


@pytest.mark.parametrize("tensors", [False, True])
def test_sparse_metrics_match_the_reference(api_client: InProcessClient, tensors: bool) -> None:
    logits = RNG.normal(size=(6, 9, 5)) * 2
    labels = RNG.integers(0, 5, size=(6, 9))
    labels[RNG.random((6, 9)) < 0.2] = -100
    weights = RNG.random((6, 1)) + 0.5
    body = {
        "logits": tensor(logits, "float64") if tensors else logits.tolist(),
        "labels": tensor(labels, "int64") if tensors else labels.tolist(),
        "sample_weight": weights.tolist(),
        "ignore_index": -100,
        "class_weight": [1.0, 2.0, 0.5, 1.0, 3.0],  # shapes the loss, never the metrics
        "label_smoothing": 0.1,
        "metrics": ALL,
        "top_k": 2,
        "calibration_bins": 10,
    }
    status, payload = post(api_client, SPARSE, body)
    assert status == 200, payload
    expected = mref.sparse_metrics(
        logits, labels, sample_weight=np.broadcast_to(weights, (6, 9)), ignore_index=-100, k=2, bins=10
    )
    assert_like_reference(payload["metrics"], expected, rel=1e-9)
    assert len(payload["metrics"]["calibration_error"]["bins"]) == 11


def test_categorical_probabilities_metrics_match_the_reference(api_client: InProcessClient) -> None:
    probabilities = RNG.dirichlet(np.ones(4), size=12)
    targets = RNG.dirichlet(np.ones(4), size=12)
    body = {"probabilities": probabilities.tolist(), "labels": targets.tolist(), "metrics": ALL}
    status, payload = post(api_client, CATEGORICAL, body)
    assert status == 200, payload
    expected = mref.categorical_metrics(np.log(probabilities), targets)
    assert_like_reference(payload["metrics"], expected, rel=1e-9)


def test_no_metrics_no_member(api_client: InProcessClient) -> None:
    status, payload = post(api_client, SPARSE, {"logits": [[1.0, 2.0]], "labels": [1]})
    assert status == 200
    assert "metrics" not in payload


def test_overflowing_perplexity_is_null_with_a_warning(api_client: InProcessClient) -> None:
    body = {"logits": [[0.0, -2000.0]], "labels": [1], "metrics": ["perplexity"]}
    status, payload = post(api_client, SPARSE, body)
    assert status == 200
    assert payload["metrics"]["perplexity"] == {"value": None, "nll_sum": 2000.0, "total": 1.0}
    assert [w["code"] for w in payload["warnings"]] == ["perplexity_overflow"]
    assert payload["warnings"][0]["pointer"] == "/metrics"


def test_info_lists_each_endpoints_options_and_metrics(api_client: InProcessClient) -> None:
    info = api_client.get("/v1/info").json()
    by_id = {e["operation_id"]: e for e in info["endpoints"]}
    assert by_id["sparse_cross_entropy"]["metrics"] == ALL
    assert by_id["sparse_cross_entropy"]["options"]["top_k"] == 5
    assert by_id["sparse_cross_entropy"]["options"]["calibration_bins"] == 15
    assert "ignore_index" in by_id["sparse_cross_entropy"]["options"]
    assert "ignore_index" not in by_id["categorical_cross_entropy"]["options"]
    assert "threshold" not in by_id["categorical_cross_entropy"]["options"]


# --- one test per new error -------------------------------------------------------------------------------


def test_unknown_metric_points_at_it_and_names_the_allowed(api_client: InProcessClient) -> None:
    body = {"logits": [[1.0, 2.0]], "labels": [1], "metrics": ["accuracy", "f1_score"]}
    status, problem = post(api_client, CATEGORICAL.replace("categorical", "sparse"), body)
    assert status == 422
    assert problem["code"] == "invalid_field"
    assert problem["errors"][0]["pointer"] == "/metrics/1"
    assert all(name in problem["detail"] for name in ALL)


def test_a_metric_the_endpoint_does_not_offer_is_invalid() -> None:
    # A family declaring fewer metrics (as the binary one will): the check follows the declaration.
    family = dataclasses.replace(SPARSE_FAMILY, metrics=("accuracy", "brier_score"))
    body = orjson.dumps({"logits": [[1.0, 2.0]], "labels": [1], "metrics": ["brier_score", "perplexity"]})
    with pytest.raises(ProblemError) as caught:
        evaluate_body(family, body, Settings())
    assert caught.value.code == "invalid_field"
    assert caught.value.errors[0]["pointer"] == "/metrics/1"
    assert "accuracy, brier_score" in caught.value.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top_k", 0),
        ("top_k", 2.0),
        ("calibration_bins", 0),
        ("calibration_bins", 1001),
        ("metrics", "accuracy"),
    ],
)
def test_bad_metric_options_are_invalid_fields(api_client: InProcessClient, field: str, value: Any) -> None:
    body = {"logits": [[1.0, 2.0]], "labels": [1], "metrics": ["accuracy"], field: value}
    status, problem = post(api_client, SPARSE, body)
    assert status == 422
    assert problem["code"] == "invalid_field"
    assert problem["errors"][0]["pointer"] == f"/{field}"


def test_threshold_is_not_a_softmax_option(api_client: InProcessClient) -> None:
    body = {"logits": [[1.0, 2.0]], "labels": [1], "metrics": ["accuracy"], "threshold": 0.5}
    status, problem = post(api_client, SPARSE, body)
    assert status == 422
    assert problem["errors"][0]["pointer"] == "/threshold"
