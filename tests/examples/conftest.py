"""A running server for this directory's tests (see tests/clients/live_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clients.live_server import running_server


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    with running_server() as url:
        yield url
