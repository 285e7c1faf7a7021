"""No log line carries more than ~120 characters of what the client sent (path, query, header values),
however the server is started."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from logging.handlers import BufferingHandler

import httpx
import pytest
from clients.live_server import running_server
from reference.inprocess import InProcessClient
from uvicorn.logging import AccessFormatter

from service.api.problems import ECHO_LIMIT
from service.observability.clipping import UVICORN_ACCESS

# 16 KB of each: the path, the query string and a header value, told apart by their letter.
LONG_PATH = "/v1/" + "p" * 16384
LONG_QUERY = "q=" + "q" * 16384
LONG_HEADERS = {"X-Request-ID": "h" * 16384, "User-Agent": "u" * 16384, "X-API-Key": "k" * 16384}
# More than the limit of one letter in a row: client text that was not cut.
UNCUT = re.compile(rf"([pqhuk])\1{{{ECHO_LIMIT},}}")


def uncut(lines: list[str]) -> list[str]:
    return [line[:200] for line in lines if UNCUT.search(line)]


def test_the_access_log_cuts_the_path_and_logs_no_query_or_header(
    api_client: InProcessClient, log_lines: list[str]
) -> None:
    api_client.get(LONG_PATH + "?" + LONG_QUERY, headers=LONG_HEADERS)
    api_client.post(LONG_PATH, content=b"{}", headers=LONG_HEADERS)
    api_client.get("/healthz?" + LONG_QUERY, headers=LONG_HEADERS)
    access = [json.loads(line) for line in log_lines if '"loss_service.access"' in line]
    assert [(line["status"], line["path"]) for line in access] == [
        (404, LONG_PATH[: ECHO_LIMIT - 1] + "…"),
        (404, LONG_PATH[: ECHO_LIMIT - 1] + "…"),
        (200, "/healthz"),
    ]
    # The over-long request id was not taken: the server made one of its own.
    assert all(re.fullmatch("[0-9a-f]{32}", line["request_id"]) for line in access)
    assert uncut(log_lines) == []


def test_uvicorn_s_access_lines_are_cut_once_the_app_exists(api_client: InProcessClient) -> None:
    # The record uvicorn's HTTP protocols log for every request, then uvicorn's own formatter.
    logger = logging.getLogger(UVICORN_ACCESS)
    handler = BufferingHandler(capacity=10)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", LONG_PATH + "?" + LONG_QUERY, "1.1", 404
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    assert [formatter.format(record) for record in handler.buffer] == [
        f'127.0.0.1:5000 - "GET {LONG_PATH[: ECHO_LIMIT - 1]}… HTTP/1.1" 404 Not Found'
    ]


@pytest.mark.slow
def test_plain_uvicorn_logs_nothing_long_of_the_client_s() -> None:
    # Started as `uvicorn service.main:app` with uvicorn's own logging, access lines included.
    with tempfile.TemporaryFile() as output:
        with (
            running_server(log_level="info", log=output) as url,
            httpx.Client(base_url=url, timeout=10) as client,
        ):
            assert client.get(LONG_PATH + "?" + LONG_QUERY, headers=LONG_HEADERS).status_code == 404
            assert client.get("/healthz?" + LONG_QUERY, headers=LONG_HEADERS).status_code == 200
        output.seek(0)
        lines = output.read().decode(errors="replace").splitlines()
    uvicorn_access = [line for line in lines if '"GET /v1/p' in line or '"GET /healthz?' in line]
    assert [line.split(" - ", 1)[1] for line in uvicorn_access] == [
        f'"GET {LONG_PATH[: ECHO_LIMIT - 1]}… HTTP/1.1" 404 Not Found',
        f'"GET /healthz?{LONG_QUERY[: ECHO_LIMIT - 10]}… HTTP/1.1" 200 OK',
    ]
    app_access = [json.loads(line) for line in lines if '"loss_service.access"' in line]
    assert [line["path"] for line in app_access if line["path"] != "/readyz"] == [
        LONG_PATH[: ECHO_LIMIT - 1] + "…",
        "/healthz",
    ]
    assert uncut(lines) == []
