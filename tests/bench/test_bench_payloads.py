"""Bench payload builders make valid requests that the service (and the peer) answer correctly."""

import numpy as np
import orjson
import pybase64
import pytest
from reference.inprocess import InProcessClient

from bench import payloads, reference


def test_inputs_are_deterministic_float32_and_int64() -> None:
    a, b = payloads.make_logits((64, 10), seed=3), payloads.make_logits((64, 10), seed=3)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    labels = payloads.make_labels((64,), 10)
    assert labels.dtype == np.int64
    assert labels.min() >= 0
    assert labels.max() < 10


def test_targets_are_distributions() -> None:
    targets = payloads.make_targets((32, 7))
    assert targets.dtype == np.float32
    assert (targets >= 0).all()
    np.testing.assert_allclose(targets.sum(axis=-1), 1.0, rtol=1e-6)


def test_json_body_carries_the_float32_values_exactly() -> None:
    logits, labels = payloads.make_logits((4, 5)), payloads.make_labels((4,), 5)
    body = orjson.loads(payloads.sparse_body(logits, labels, "json"))
    assert set(body) == {"logits", "labels"}
    np.testing.assert_array_equal(np.array(body["logits"], dtype=np.float32), logits)
    assert body["labels"] == labels.tolist()


def test_tensor_body_decodes_to_the_same_arrays() -> None:
    logits, labels = payloads.make_logits((4, 5)), payloads.make_labels((4,), 5)
    body = orjson.loads(payloads.sparse_body(logits, labels, "tensor"))
    for field, array, dtype in (("logits", logits, "<f4"), ("labels", labels, "<i8")):
        tensor = body[field]
        assert tensor["dtype"] == array.dtype.name
        assert tensor["shape"] == list(array.shape)
        decoded = np.frombuffer(pybase64.b64decode(tensor["data"]), dtype=dtype)
        np.testing.assert_array_equal(decoded.reshape(array.shape), array)


def test_expected_loss_is_the_float64_mean() -> None:
    payload = payloads.http_payload(8, 3, "json", seed=5)
    logits = payloads.make_logits((8, 3), 5).astype(np.float64)
    labels = payloads.make_labels((8,), 3, 6)
    # Written out here from the formula: lse(z) - z_y.
    by_formula = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(8), labels]
    assert payload.expected_loss == pytest.approx(by_formula.mean(), rel=1e-12)
    assert payload.expected_loss == pytest.approx(reference.sparse_losses(logits, labels).mean(), rel=1e-12)


@pytest.mark.parametrize("form", payloads.FORMS)
def test_service_answers_bench_bodies(api_client: InProcessClient, form: payloads.Form) -> None:
    payload = payloads.http_payload(256, 10, form)
    response = api_client.post(
        "/v1/cross-entropy/sparse",
        content=payload.body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["loss"] == pytest.approx(payload.expected_loss, rel=1e-5)
    assert answer["shape"] == [256]
    assert answer["warnings"] == []
