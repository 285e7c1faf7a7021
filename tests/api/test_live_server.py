"""A real uvicorn process, spoken to over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from clients.live_server import running_server

# semantics.md §8b, V01/V02: torch, TF and Keras agree on these to float32 precision.
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
LABELS = [0, 1, 2, 1]
V01 = [0.4170300, 0.1531782, 0.06588390, 1.098612]


@pytest.mark.slow
def test_a_real_server_answers_and_explains() -> None:
    with running_server() as url, httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        answer = client.post("/v1/cross-entropy/sparse", json={"logits": LOGITS, "labels": LABELS})
        assert answer.status_code == 200
        body = answer.json()
        assert body["losses"] == pytest.approx(V01, rel=1e-6)
        assert body["loss"] == pytest.approx(0.4336761, rel=1e-6)
        assert body["count"] == 4
        wrong = client.post("/v1/cross-entropy/sparse", json={"logits": LOGITS, "labels": [0, 3, 2, 1]})
        assert wrong.status_code == 422
        assert wrong.headers["content-type"] == "application/problem+json"
        assert wrong.json()["errors"][0]["pointer"] == "/labels/1"
        assert client.get("/v1/info").json()["limits"]["max_elements"] == 1 << 24


@pytest.mark.slow
def test_a_chunked_body_without_content_length_is_read_whole() -> None:
    body = json.dumps({"logits": LOGITS, "labels": LABELS, "reduction": "none"}).encode()

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    with running_server() as url, httpx.Client(base_url=url, timeout=10) as client:
        answer = client.post(
            "/v1/cross-entropy/sparse", content=pieces(), headers={"content-type": "application/json"}
        )
        assert answer.request.headers.get("transfer-encoding") == "chunked"
        assert answer.status_code == 200
        assert answer.json()["losses"] == pytest.approx(V01, rel=1e-6)
