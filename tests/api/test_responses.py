"""What a 200 carries besides the numbers: shapes, warnings with pointers, options that shape the body."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from reference.inprocess import InProcessClient
from reference.tensor import tensor

SPARSE = "/v1/cross-entropy/sparse"
CATEGORICAL = "/v1/cross-entropy/categorical"
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
LABELS = [0, 1, 2, 1]


def ok(client: InProcessClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    payload: dict[str, Any] = response.json()
    return payload


def codes(body: dict[str, Any]) -> dict[str, str | None]:
    return {w["code"]: w["pointer"] for w in body["warnings"]}


def test_every_contract_field_is_present(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": LABELS})
    assert set(body) == {
        "loss",
        "reduction",
        "losses",
        "shape",
        "num_classes",
        "count",
        "weight_sum",
        "nonzero_weight_count",
        "loss_sum",
        "precision",
        "warnings",
    }
    assert body["shape"] == [4]
    assert body["num_classes"] == 3
    assert body["precision"] == "float64"
    assert body["warnings"] == []


def test_per_example_false_omits_losses(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": LABELS, "per_example": False})
    assert "losses" not in body
    assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)  # semantics.md V02


def test_one_example_with_a_scalar_label(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": [2.0, 1.0, 0.1], "labels": 0, "reduction": "none"})
    assert body["shape"] == []
    assert body["losses"] == pytest.approx(0.4170300, rel=1e-6)  # semantics.md V01
    assert body["loss"] is None


def test_squeezed_labels_are_announced(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": [[0], [1], [2], [1]]})
    assert codes(body) == {"labels_squeezed": "/labels"}
    assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)


def test_all_zero_weights_give_null_and_a_warning_never_nan(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": LABELS, "sample_weight": 0.0})
    assert body["loss"] is None
    assert "zero_denominator" in codes(body)
    assert body["losses"] == [0.0, 0.0, 0.0, 0.0]
    assert body["weight_sum"] == 0.0


def test_all_ignored_gives_count_zero(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": [-100] * 4, "ignore_index": -100})
    assert (body["count"], body["loss"], body["loss_sum"]) == (0, None, 0.0)  # torch: NaN (V10)
    assert "empty_batch" in codes(body)


@pytest.mark.parametrize(("reduction", "loss"), [("mean", None), ("sum", 0.0), ("sum_over_batch_size", None)])
def test_empty_batch(api_client: InProcessClient, reduction: str, loss: float | None) -> None:
    logits = tensor(np.zeros((0, 3)), "float32")
    labels = tensor(np.zeros((0,), dtype=np.int64), "int64")
    body = ok(api_client, SPARSE, {"logits": logits, "labels": labels, "reduction": reduction})
    assert (body["count"], body["loss"], body["shape"], body["losses"]) == (0, loss, [0], [])
    assert "empty_batch" in codes(body)


def test_softmax_outputs_sent_as_logits_are_flagged(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], "labels": [0, 1]})
    assert codes(body) == {"logits_look_like_probabilities": "/logits"}


def test_probability_rows_are_renormalised_and_clipped_with_warnings(api_client: InProcessClient) -> None:
    # semantics.md V13 (Keras jax/torch/numpy): [0.5, 0.5, 0] → 16.11810, [0.2, 0.3, 0.5] → 1.203973.
    body = ok(
        api_client,
        SPARSE,
        {"probabilities": [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], "labels": [2, 1], "reduction": "none"},
    )
    assert body["losses"] == pytest.approx([16.11810, 1.203973], rel=1e-6)
    assert "probabilities_clipped" in codes(body)
    body = ok(
        api_client,
        SPARSE,
        {"probabilities": [[0.25, 0.25, 0.0], [0.1, 0.15, 0.25]], "labels": [0, 1], "reduction": "none"},
    )
    assert body["losses"] == pytest.approx([math.log(2.0), -math.log(0.3)], rel=1e-12)
    assert codes(body)["probabilities_not_normalized"] == "/probabilities/0/0"


def test_masked_classes_give_finite_json(api_client: InProcessClient) -> None:
    raw = b'{"logits": [[-Infinity, 0, 1], [1000, 0, -1000]], "labels": [1, 2], "reduction": "sum"}'
    response = api_client.post(SPARSE, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert b"NaN" not in response.content
    assert b"Infinity" not in response.content
    assert response.json()["losses"] == pytest.approx([1.313262, 2000.0], rel=1e-6)  # semantics.md V16


def test_precision_float32_is_honoured_and_reported(api_client: InProcessClient) -> None:
    body = ok(api_client, SPARSE, {"logits": LOGITS, "labels": LABELS, "precision": "float32"})
    assert body["precision"] == "float32"
    assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)


def test_int32_label_tensor_and_float32_logit_tensor(api_client: InProcessClient) -> None:
    body = ok(
        api_client,
        SPARSE,
        {"logits": tensor(np.array(LOGITS), "float32"), "labels": tensor(np.array(LABELS), "int32")},
    )
    assert body["precision"] == "float32"
    assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)


def test_one_hot_int_tensor_is_a_categorical_target(api_client: InProcessClient) -> None:
    one_hot = np.eye(3, dtype=np.int32)[LABELS]
    body = ok(api_client, CATEGORICAL, {"logits": LOGITS, "labels": tensor(one_hot, "int32")})
    assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)


def test_prediction_elements_are_counted_in_the_metrics(api_client: InProcessClient) -> None:
    from prometheus_client import REGISTRY

    def elements() -> float:
        found = REGISTRY.get_sample_value(
            "loss_service_elements_processed_total", {"route": "/v1/cross-entropy/sparse"}
        )
        return found or 0.0

    before = elements()
    ok(api_client, SPARSE, {"logits": LOGITS, "labels": LABELS})
    assert elements() == before + 12  # 4 examples × 3 classes
