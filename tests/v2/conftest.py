"""One live uvicorn server on 127.0.0.1 for each /v2 test module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from clients.live_server import running_server


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client
