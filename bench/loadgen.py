"""A closed-loop HTTP/1.1 load generator: c keep-alive connections share a fixed request count.

Raw asyncio streams on uvloop keep the client's own cost to tens of microseconds a request. Each
latency is one request's send-to-last-byte time, uncorrected; throughput is responses over the
time from the first send to the last answer. No request is abandoned, so none keeps the server
busy after the run.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvloop


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies_s: list[float]
    failures: dict[int, int]  # status -> count, for answers other than 200

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _request_bytes(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length framed, as uvicorn sends them); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split(" ", 2)[1])


class _Shared:
    def __init__(self, total: int, deadline: float) -> None:
        self.left = total
        self.deadline = deadline
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}

    def take(self) -> bool:
        if self.left == 0 or time.monotonic() > self.deadline:
            return False
        self.left -= 1
        return True


async def _connection(host: str, port: int, request: bytes, shared: _Shared) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while shared.take():
            start = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = await _read_response(reader)
            shared.latencies.append(time.perf_counter() - start)
            if status != 200:
                shared.failures[status] = shared.failures.get(status, 0) + 1
    finally:
        writer.close()


async def _run(url: str, body: bytes, requests: int, connections: int, cap_s: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request_bytes(f"{host}:{port}", parts.path, body)
    shared = _Shared(requests, time.monotonic() + cap_s)
    start = time.perf_counter()
    await asyncio.gather(*(_connection(host, port, request, shared) for _ in range(connections)))
    seconds = time.perf_counter() - start
    return LoadResult(len(shared.latencies), seconds, shared.latencies, shared.failures)


def run_load(url: str, body: bytes, requests: int, connections: int, cap_s: float) -> LoadResult:
    """POST `body` to `url` `requests` times over `connections` connections; stop early at the
    time cap (no new request starts after it)."""
    return uvloop.run(_run(url, body, requests, connections, cap_s))
