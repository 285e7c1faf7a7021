"""A real `loss-service serve` process: body limits, /metrics and the JSON access log."""

from __future__ import annotations

import json
import select
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_support import ServerProcess, read_response, server_process, wait_for
from prometheus_client.parser import text_string_to_metric_families
from reference.vectors import PUBLISHED_REL, V01_LOSSES, L, Y

pytestmark = pytest.mark.slow

LIMIT = 4096
SPARSE = "/v1/cross-entropy/sparse"
V01 = {"logits": L, "labels": Y, "reduction": "none"}
# Everything an access-log line may hold: sizes, timing and names, never request data.
LOG_FIELDS = {
    "ts", "level", "logger", "message", "request_id", "method", "path", "route", "status",
    "duration_ms", "request_bytes", "response_bytes", "elements", "code",
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("server")
    with server_process(workdir, LOSS_SERVICE_MAX_BODY_BYTES=str(LIMIT)) as process:
        yield process


def samples(server: ServerProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, headers, body = server.request("GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def assert_healthy(server: ServerProcess) -> None:
    assert server.status_of("/healthz") == 200
    status, _, result = server.post_json(SPARSE, V01)
    assert status == 200
    assert result["losses"] == pytest.approx(V01_LOSSES, rel=PUBLISHED_REL)


def assert_too_large(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = json.loads(body)
    assert (problem["status"], problem["code"]) == (413, "too_large")


def test_declared_content_length_alone_gets_413(server: ServerProcess) -> None:
    conn = server.connection()
    conn.putrequest("POST", SPARSE)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(10**9))
    conn.endheaders()  # and not one byte of the body
    assert_too_large(*read_response(conn))
    conn.close()
    assert_healthy(server)


def test_streamed_body_over_the_limit_gets_413(server: ServerProcess) -> None:
    # Chunked: no Content-Length to check, so the limit applies while the body streams in.
    conn = server.connection()
    conn.putrequest("POST", SPARSE)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for _ in range(LIMIT // 1024 + 2):
            if select.select([conn.sock], [], [], 0)[0]:
                break  # answered early: sending on would only meet a closed connection
            conn.send(b"400\r\n" + b" " * 1024 + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # answered and closed between the check and the send: the answer is still there to read
    assert_too_large(*read_response(conn))
    conn.close()
    assert_healthy(server)


def test_metrics_count_requests_latency_sizes_and_errors_by_code(server: ServerProcess) -> None:
    ok = json.dumps(V01).encode()
    bad = json.dumps({"logits": L, "labels": [0, 1, 3, 1]}).encode()
    before = samples(server)
    for body in (ok, bad):
        server.request("POST", SPARSE, body, {"Content-Type": "application/json"})
    server.request("GET", "/no/such/path")
    after = samples(server)

    def delta(name: str, **labels: str) -> float:
        return after.get(key(name, **labels), 0.0) - before.get(key(name, **labels), 0.0)

    route = {"method": "POST", "route": SPARSE}
    assert delta("loss_service_http_requests_total", **route, status="200") == 1
    assert delta("loss_service_http_requests_total", **route, status="422") == 1
    assert delta("loss_service_http_request_duration_seconds_count", **route, status="200") == 1
    assert delta("loss_service_http_request_duration_seconds_sum", **route, status="200") > 0
    assert delta("loss_service_http_request_size_bytes_sum", route=SPARSE) == len(ok) + len(bad)
    assert delta("loss_service_errors_total", code="label_out_of_range", route=SPARSE) == 1
    assert delta("loss_service_errors_total", code="not_found", route="unmatched") == 1
    assert delta("loss_service_http_requests_total", method="GET", route="unmatched", status="404") == 1


def test_one_json_access_line_per_request_with_the_request_id(server: ServerProcess) -> None:
    body = json.dumps(V01).encode()
    status, headers, _ = server.request(
        "POST", SPARSE, body, {"Content-Type": "application/json", "X-Request-ID": "log-line-1"}
    )
    assert (status, headers["x-request-id"]) == (200, "log-line-1")

    def logged() -> list[dict[str, Any]]:
        return [line for line in server.access_log() if line.get("request_id") == "log-line-1"]

    wait_for(lambda: bool(logged()), 5, "the access-log line")
    [line] = logged()
    assert set(line) <= LOG_FIELDS
    assert line["message"] == "request"
    assert (line["method"], line["path"], line["route"], line["status"]) == ("POST", SPARSE, SPARSE, 200)
    assert (line["request_bytes"], line["response_bytes"]) == (len(body), int(headers["content-length"]))
    assert line["duration_ms"] > 0


def test_an_unusable_request_id_is_replaced_and_echoed(server: ServerProcess) -> None:
    status, headers, problem = server.post_json(SPARSE, {"logits": L}, **{"X-Request-ID": "bad id!"})
    assert status == 422
    assert headers["x-request-id"] == problem["request_id"] != "bad id!"
    wait_for(
        lambda: any(line.get("request_id") == problem["request_id"] for line in server.access_log()),
        5,
        "the access-log line",
    )
