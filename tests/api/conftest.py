"""Fixtures for the hardening tests: apps with chosen settings, and every log line the process writes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from reference.inprocess import InProcessClient, in_process

from service.observability.jsonlog import ACCESS_LOGGER, JsonFormatter

# The app's access log, uvicorn's loggers, the service's own, and the root (everything that propagates).
LOGGERS = (ACCESS_LOGGER, "uvicorn", "uvicorn.access", "uvicorn.error", "service", "")
# The test's own HTTP client logs the URLs it requests; those lines are not the server's.
CLIENT_LOGGERS = ("httpx", "httpcore")


@pytest.fixture
def app_with() -> Callable[..., AbstractContextManager[InProcessClient]]:
    """``with app_with(api_keys=..., ...) as client``: the app built from those settings, in-process."""
    from service.config import Settings
    from service.main import create_app

    @contextmanager
    def serve(**settings: Any) -> Iterator[InProcessClient]:
        with in_process(create_app(Settings(**settings))) as client:
            yield client

    return serve


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_LOGGERS):
            self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line written during the test, as the JSON formatter renders it (at debug level)."""
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler.lines
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        root.setLevel(level)
