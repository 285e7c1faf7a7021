"""A real uvicorn process serving ``service.main:app`` on a free 127.0.0.1 port, for tests that
need a running server (generated clients, the evaluate CLI, the examples)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import IO

import httpx

STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(*, log_level: str = "warning", log: IO[bytes] | None = None) -> Iterator[str]:
    """Yields the base URL once /readyz answers 200; the process is stopped on exit. Its output goes to
    ``log`` when given: uvicorn's own log config at ``log_level``, as ``uvicorn service.main:app`` runs."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1"]
    env = {**os.environ, "LOSS_SERVICE_LOG_LEVEL": log_level}
    # A file, not a pipe: an undrained pipe would block a server that logs every request.
    with nullcontext(log) if log is not None else tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--log-level", log_level],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, url, output)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"the server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {url} was not ready within {STARTUP_SECONDS:.0f} s")
