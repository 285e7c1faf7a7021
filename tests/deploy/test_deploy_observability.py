"""The observability middleware on a minimal app: crashes, elements, and what a log line holds."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from fastapi import FastAPI, Request
from prometheus_client import REGISTRY

from service.observability import instrument
from service.observability.jsonlog import ACCESS_LOGGER, JsonFormatter


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, object]]]:
    handler = Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def app() -> FastAPI:
    application = FastAPI()

    @application.post("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    @application.post("/count/{name}")
    async def count(name: str, request: Request) -> dict[str, str]:
        request.state.elements = np.int64(12)
        return {"name": name}

    instrument(application, "info")
    return application


def call(method: str, path: str, body: bytes = b"") -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, content=body)

    return asyncio.run(send())


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_unhandled_error_counts_as_a_500_internal_error(
    access_lines: list[dict[str, object]],
) -> None:
    before = value("loss_service_errors_total", code="internal_error", route="/crash")
    assert call("POST", "/crash", b"{}").status_code == 500
    assert value("loss_service_errors_total", code="internal_error", route="/crash") == before + 1
    [line] = access_lines
    assert (line["route"], line["status"], line["code"]) == ("/crash", 500, "internal_error")


def test_elements_and_route_templates_come_from_the_app(
    access_lines: list[dict[str, object]],
) -> None:
    labels = {"route": "/count/{name}"}
    before = value("loss_service_elements_processed_total", **labels)
    secret = b'{"logits": [[0.123456789, 9.87654321]]}'
    assert call("POST", "/count/abc", secret).status_code == 200
    assert value("loss_service_elements_processed_total", **labels) == before + 12
    [line] = access_lines
    assert (line["path"], line["route"], line["elements"]) == ("/count/abc", "/count/{name}", 12)
    assert "0.123456789" not in json.dumps(line)


def test_unknown_methods_share_one_label(access_lines: list[dict[str, object]]) -> None:
    labels = {"method": "other", "route": "/crash", "status": "405"}
    before = value("loss_service_http_requests_total", **labels)
    assert call("BREW", "/crash").status_code == 405
    assert value("loss_service_http_requests_total", **labels) == before + 1
    assert access_lines[0]["method"] == "other"
