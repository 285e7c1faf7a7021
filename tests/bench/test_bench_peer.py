"""The typical FastAPI peer computes the right loss (its speed is only measured in bench/)."""

from collections.abc import Iterator

import pytest
from reference.inprocess import InProcessClient, in_process

from bench import payloads
from bench.peers.typical_fastapi import app


@pytest.fixture(scope="module")
def peer() -> Iterator[InProcessClient]:
    with in_process(app) as client:
        yield client


def test_peer_matches_published_vectors(peer: InProcessClient) -> None:
    # semantics.md §8b V01 / V02.
    body = {
        "logits": [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]],
        "labels": [0, 1, 2, 1],
    }
    response = peer.post("/v1/cross-entropy/sparse", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["loss"] == pytest.approx(0.4336761, rel=1e-6)
    assert answer["losses"] == pytest.approx([0.4170300, 0.1531782, 0.06588390, 1.098612], rel=1e-6)


def test_peer_answers_the_bench_json_body(peer: InProcessClient) -> None:
    payload = payloads.http_payload(256, 10, "json")
    response = peer.post(
        "/v1/cross-entropy/sparse",
        content=payload.body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["loss"] == pytest.approx(payload.expected_loss, rel=1e-9)
    assert len(response.json()["losses"]) == 256


def test_peer_health(peer: InProcessClient) -> None:
    assert peer.get("/healthz").json() == {"status": "ok"}


def test_peer_rejects_the_tensor_form(peer: InProcessClient) -> None:
    payload = payloads.http_payload(4, 3, "tensor")
    response = peer.post(
        "/v1/cross-entropy/sparse",
        content=payload.body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
