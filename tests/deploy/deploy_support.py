"""Shared by the deployment tests: the repository root, and the service as a real process."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clients.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
# The console script installed with the project, beside this interpreter.
LOSS_SERVICE = Path(sys.executable).parent / "loss-service"
START_TIMEOUT = 60.0


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 50 ms; fail the test once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def read_response(conn: http.client.HTTPConnection) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of the response on `conn`."""
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


@dataclass
class ServerProcess:
    """`loss-service serve` on 127.0.0.1, its stdout (access log) and stderr kept in files."""

    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            return read_response(conn)
        finally:
            conn.close()

    def post_json(self, path: str, payload: Any, **headers: str) -> tuple[int, dict[str, str], Any]:
        status, response_headers, body = self.request(
            "POST",
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **headers},
        )
        return status, response_headers, json.loads(body)

    def status_of(self, path: str) -> int | None:
        """The status of `GET path`, or None when no connection can be made."""
        try:
            return self.request("GET", path)[0]
        except OSError:
            return None

    def access_log(self) -> list[dict[str, Any]]:
        # The server may be writing a line right now: only the complete ones count.
        lines = self.stdout.read_text().split("\n")[:-1]
        return [json.loads(line) for line in lines if line.startswith("{")]


@contextmanager
def server_process(workdir: Path, **env: str) -> Iterator[ServerProcess]:
    port = free_port()
    stdout, stderr = workdir / "stdout.log", workdir / "stderr.log"
    environment = {
        **os.environ,
        "LOSS_SERVICE_HOST": "127.0.0.1",
        "LOSS_SERVICE_PORT": str(port),
        "LOSS_SERVICE_LOG_LEVEL": "info",
        **env,
    }
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen([str(LOSS_SERVICE), "serve"], env=environment, stdout=out, stderr=err)
    server = ServerProcess(process, port, stdout, stderr)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while server.status_of("/readyz") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not become ready:\n{stderr.read_text()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
