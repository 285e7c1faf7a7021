"""Graceful shutdown of a real `loss-service serve` process: SIGTERM during a large request."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from deploy_support import ServerProcess, server_process, wait_for
from prometheus_client.parser import text_string_to_metric_families
from reference.vectors import PUBLISHED_REL, L, Y

DRAIN_SECONDS = 2.0
# V01's four rows repeated: the sum of the losses is REPEATS × the published V02 sum.
REPEATS = 25_000
V02_SUM = 1.734704


def in_flight(server: ServerProcess) -> float:
    _, _, body = server.request("GET", "/metrics")
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "loss_service_http_requests_in_flight":
            return family.samples[0].value
    raise AssertionError("no in-flight gauge in /metrics")


@pytest.mark.slow
def test_sigterm_drains_then_finishes_the_request_in_flight_and_exits_0(tmp_path: Path) -> None:
    body = json.dumps({"logits": L * REPEATS, "labels": Y * REPEATS, "reduction": "sum"}).encode()
    half = len(body) // 2
    with server_process(tmp_path, LOSS_SERVICE_DRAIN_SECONDS=str(DRAIN_SECONDS)) as server:
        # A large request, of which only the headers and half of the body have been sent.
        upload = server.connection(timeout=60)
        upload.putrequest("POST", "/v1/cross-entropy/sparse")
        upload.putheader("Content-Type", "application/json")
        upload.putheader("Content-Length", str(len(body)))
        upload.putheader("X-Request-ID", "shutdown-test")
        upload.endheaders()
        upload.send(body[:half])
        # The gauge counts the /metrics request itself too.
        wait_for(lambda: in_flight(server) >= 2, 10, "the large request to be in flight")

        server.process.send_signal(signal.SIGTERM)
        wait_for(lambda: server.status_of("/readyz") == 503, 5, "/readyz to answer 503")
        # Draining: still alive and still serving new connections.
        assert server.status_of("/healthz") == 200
        # After the drain the listener closes, while the request in flight goes on.
        wait_for(lambda: server.status_of("/healthz") is None, DRAIN_SECONDS + 10, "the drain to end")
        assert server.process.poll() is None

        upload.send(body[half:])
        response = upload.getresponse()
        assert response.status == 200
        result = json.loads(response.read())
        assert result["count"] == 4 * REPEATS
        assert result["loss"] == pytest.approx(REPEATS * V02_SUM, rel=PUBLISHED_REL)
        upload.close()

        assert server.process.wait(timeout=30) == 0
        logged = [line for line in server.access_log() if line["request_id"] == "shutdown-test"]
        assert [(line["status"], line["request_bytes"]) for line in logged] == [(200, len(body))]


@pytest.mark.slow
def test_ctrl_c_stops_without_a_drain_or_a_traceback(tmp_path: Path) -> None:
    with server_process(tmp_path, LOSS_SERVICE_DRAIN_SECONDS="60") as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=30) == 0
    assert "Traceback" not in server.stderr.read_text()
