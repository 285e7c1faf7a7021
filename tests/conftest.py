"""Fixtures shared by the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reference.compare import Evaluate
from reference.inprocess import InProcessClient, in_process


@pytest.fixture(scope="session")
def api_client() -> Iterator[InProcessClient]:
    """`service.main.create_app()` served in-process, lifespan included."""
    # Imported here so the reference's own tests run while the service is incomplete.
    from service.main import create_app

    with in_process(create_app()) as client:
        yield client


@pytest.fixture(scope="session")
def evaluate(api_client: InProcessClient) -> Evaluate:
    """POST a body to `/v1/cross-entropy/{endpoint}` and return the 200 response's JSON."""

    def post(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        response = api_client.post(f"/v1/cross-entropy/{endpoint}", json=body)
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()
        return payload

    return post


@pytest.fixture
def small_limits_client() -> Iterator[InProcessClient]:
    """The app with tiny limits: 4 KiB bodies, 100 elements per array."""
    from service.config import Settings
    from service.main import create_app

    with in_process(create_app(Settings(max_body_bytes=4096, max_elements=100))) as client:
        yield client


@pytest.fixture
def crashing_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessClient]:
    """The app with the sparse evaluation replaced by one that raises an unexpected exception."""
    from service.api.routes import cross_entropy
    from service.main import create_app

    def boom(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(cross_entropy, "evaluate", boom)
    # A server answers 500 and logs the exception; ASGITransport would re-raise it into the test.
    with in_process(create_app(), raise_app_exceptions=False) as client:
        yield client
