"""A closed-loop HTTP/1.1 load generator: c keep-alive connections share a fixed request count.

Each connection is an asyncio Protocol on uvloop that sends its next request from the callback
that completes the previous answer, so the client adds only microseconds a request. A latency is
one request's send-to-last-byte time, uncorrected; throughput is answers over the time from the
first send to the last answer. No request is abandoned, so none keeps the server busy afterwards.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import uvloop

_HEAD_END = b"\r\n\r\n"
_DRAIN_S = 120.0


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies_s: list[float]
    failures: dict[int, int]  # status -> count, for answers other than 200

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass
class _Budget:
    """Requests left to send, shared by every connection, and what came back."""

    left: int
    deadline: float
    latencies: list[float] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)

    def take(self) -> bool:
        if self.left == 0 or time.monotonic() > self.deadline:
            return False
        self.left -= 1
        return True


JSON_HEADERS = (("Content-Type", "application/json"),)


def _request_bytes(host: str, path: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def _parse_head(head: bytes) -> tuple[int, int]:
    """Status and Content-Length of a response head (uvicorn frames every answer by length)."""
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(ln.split(":", 1)[1]) for ln in lines if ln.lower().startswith("content-length:"))
    return int(lines[0].split(" ", 2)[1]), length


class _Connection(asyncio.Protocol):
    def __init__(self, request: bytes, budget: _Budget, finished: asyncio.Future[None]) -> None:
        self._request = request
        self._budget = budget
        self._finished = finished
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._started = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's does not subclass asyncio.Transport, hence the cast).
        self._transport = cast(asyncio.Transport, transport)
        self._send_next()

    def _send_next(self) -> None:
        assert self._transport is not None
        if not self._budget.take():
            self._transport.close()
            return
        self._started = time.perf_counter()
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(_HEAD_END)
        if end < 0:
            return
        status, length = _parse_head(bytes(self._buffer[:end]))
        if len(self._buffer) < end + len(_HEAD_END) + length:
            return
        self._budget.latencies.append(time.perf_counter() - self._started)
        if status != 200:
            self._budget.failures[status] = self._budget.failures.get(status, 0) + 1
        self._buffer.clear()  # one request in flight per connection: nothing can follow
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._finished.done():
            return
        if exc is None:
            self._finished.set_result(None)
        else:
            self._finished.set_exception(exc)


async def _run(
    url: str, body: bytes, requests: int, connections: int, cap_s: float, headers: tuple[tuple[str, str], ...]
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request_bytes(f"{host}:{port}", parts.path, body, headers)
    budget = _Budget(requests, time.monotonic() + cap_s)
    loop = asyncio.get_running_loop()
    finished = [loop.create_future() for _ in range(connections)]
    start = time.perf_counter()
    for done in finished:
        await loop.create_connection(lambda done=done: _Connection(request, budget, done), host, port)
    # Bounded even if a server stops answering: in-flight requests get _DRAIN_S past the cap.
    await asyncio.wait_for(asyncio.gather(*finished), cap_s + _DRAIN_S)
    seconds = time.perf_counter() - start
    return LoadResult(len(budget.latencies), seconds, budget.latencies, budget.failures)


def run_load(
    url: str,
    body: bytes,
    requests: int,
    connections: int,
    cap_s: float,
    headers: tuple[tuple[str, str], ...] = JSON_HEADERS,
) -> LoadResult:
    """POST `body` (with `headers`) to `url` `requests` times over `connections` connections; no new
    request starts after `cap_s` seconds."""
    return uvloop.run(_run(url, body, requests, connections, cap_s, headers))
