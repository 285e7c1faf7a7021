"""Start the service or the peer under uvicorn on a free 127.0.0.1 port, and stop it again."""

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import REPO_ROOT, bench_env
from bench.payloads import SPARSE_PATH, HttpPayload, loss_of

SERVICE_APP = "service.main:app"
PEER_APP = "bench.peers.typical_fastapi:app"
# The floor bench's bare apps (bench/investigations/floor_apps.py), one more of the service's steps each.
BARE_STEPS = ("read", "body", "hop", "inline", "thread")
# The bare apps that stop before the evaluation: they answer the body's size, not a loss.
BARE_SIZE_ONLY = ("bare-read", "bare-body", "bare-hop")
APPS = {"service": SERVICE_APP, "peer": PEER_APP} | {
    f"bare-{s}": f"bench.investigations.floor_apps:{s}" for s in BARE_STEPS
}


_STARTUP_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 120.0
_CHECK_RTOL = 1e-4  # JSON decimals and float32 compute both sit far inside this


@dataclass(frozen=True)
class Server:
    name: str
    pid: int
    base_url: str

    @property
    def sparse_url(self) -> str:
        return self.base_url + SPARSE_PATH


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(proc: subprocess.Popen[bytes], health_url: str, log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(health_url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{health_url} not healthy after {_STARTUP_TIMEOUT_S} s; see {log}")


@contextmanager
def serving(
    name: str,
    command: Callable[[int], list[str]],
    log_dir: Path,
    *,
    health_path: str = "/healthz",
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
) -> Iterator[Server]:
    """Run `command(port)` on a free 127.0.0.1 port until `health_path` answers 200; stop it on exit."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"server-{name}.log"
    with log.open("ab") as log_file:
        proc = subprocess.Popen(
            command(port), cwd=cwd, env=env or bench_env(), stdout=log_file, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(proc, base_url + health_path, log)
        yield Server(name, proc.pid, base_url)
    finally:
        proc.terminate()
        try:
            proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def running(name: str, log_dir: Path) -> AbstractContextManager[Server]:
    """Run `APPS[name]` the way production does: uvloop, httptools, one worker, no access log."""

    def command(port: int) -> list[str]:
        cmd = [sys.executable, "-m", "uvicorn", APPS[name], "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
        return [*cmd, "--no-access-log", "--log-level", "warning"]

    return serving(name, command, log_dir)


@contextmanager
def running_all(names: list[str], log_dir: Path) -> Iterator[list[Server]]:
    """`running` for several apps at once, side by side."""
    with ExitStack() as stack:
        yield [stack.enter_context(running(name, log_dir)) for name in names]


def post_checked(server: Server, payload: HttpPayload) -> float:
    """Post one body, verify the loss against float64, and return the seconds it took."""
    start = time.perf_counter()
    response = httpx.post(
        server.base_url + payload.path,
        content=payload.body,
        headers=dict(payload.headers),
        timeout=REQUEST_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{server.name} answered {response.status_code}: {response.text[:300]}")
    loss = loss_of(response.content, response.headers)
    if abs(loss - payload.expected_loss) > _CHECK_RTOL * abs(payload.expected_loss):
        raise RuntimeError(f"{server.name} loss {loss} != expected {payload.expected_loss}")
    return elapsed


def checked(server: Server, payload: HttpPayload) -> None:
    """Warm-up and correctness check of one target: the float64 loss, or from a bare app that stops
    before the evaluation the body's size (such an app answers on any path)."""
    if server.name not in BARE_SIZE_ONLY:
        post_checked(server, payload)
        return
    answer = httpx.post(server.base_url + payload.path, content=payload.body, timeout=REQUEST_TIMEOUT_S)
    if answer.text != str(len(payload.body)):
        raise RuntimeError(f"{server.name} answered {answer.text[:100]!r}, not the body's size")
