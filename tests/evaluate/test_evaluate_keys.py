"""`loss-service evaluate --api-key --compress` against the app itself (in-process, no network)."""

from __future__ import annotations

import gzip

import httpx
import numpy as np
import pytest
from reference import numpy_reference

from service.config import Settings
from service.evaluate import Dataset, evaluate
from service.evaluate.cli import build_parser
from service.evaluate.client import ChunkError
from service.main import create_app

RNG = np.random.default_rng(5)
LOGITS = RNG.normal(size=(30, 4))
LABELS = RNG.integers(0, 4, size=30)
KEY = "evaluate-key-123"


class Service(httpx.ASGITransport):
    """The service requiring KEY, in-process; the requests it receives are kept in ``seen``."""

    def __init__(self) -> None:
        super().__init__(app=create_app(Settings(api_keys=KEY)))
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await super().handle_async_request(request)


def test_a_key_and_gzip_bodies_give_the_exact_result() -> None:
    service = Service()
    result = evaluate(
        Dataset(LOGITS, LABELS),
        ["http://service"],
        chunk_size=7,
        transport=service,
        api_key=KEY,
        compress=True,
        protocol="v1",  # JSON bodies: what --compress is for
    )
    reference = numpy_reference.sparse(LOGITS, LABELS)
    assert result.loss == pytest.approx(reference.loss("mean"), rel=1e-12)
    assert result.totals.count == 30
    assert len(service.seen) == 5
    for request in service.seen:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.headers["content-encoding"] == "gzip"
        assert gzip.decompress(request.content).startswith(b"{")


def test_without_the_key_the_first_chunk_fails_with_the_401_problem() -> None:
    with pytest.raises(ChunkError) as failure:
        evaluate(Dataset(LOGITS, LABELS), ["http://service"], chunk_size=7, transport=Service())
    assert failure.value.status == 401
    assert failure.value.problem is not None
    assert failure.value.problem["code"] == "unauthorized"


def test_the_key_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSS_SERVICE_API_KEY", KEY)
    assert build_parser().parse_args(["data.npz"]).api_key == KEY
    assert build_parser().parse_args(["data.npz", "--api-key", "other"]).api_key == "other"
    monkeypatch.delenv("LOSS_SERVICE_API_KEY")
    args = build_parser().parse_args(["data.npz", "--compress"])
    assert (args.api_key, args.compress) == (None, True)
