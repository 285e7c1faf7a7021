"""Responsiveness bench: /healthz latency while the server processes two large requests, and while
16 connections send a mix of large requests and requests over each limit.

Two 64x32000 requests go in on their own threads; meanwhile one keep-alive client polls /healthz
(bounded in count and time) until both have answered. Bursts are repeated and the samples pooled.

The mixed load runs in a process of its own (so its threads do not hold the poller's GIL): 16
connections each send a fixed number of requests, cycling through a large Tensor request and four
that must be refused with 413 — a declared body over the body limit, a chunked body streaming past
it, a gzip bomb of ~65 KB inflating past it, and a Tensor claiming more elements than the limit —
while /healthz is polled. Each request has a connection of its own and stops sending once answered.
"""

import gzip
import multiprocessing
import select
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from bench import servers
from bench.common import stage_args, write_result
from bench.payloads import FORMS, HttpPayload, http_payload
from bench.stats import median, percentile
from service.config import Settings

LARGE = (64, 32000)
PARALLEL_LARGE = 2
_MAX_POLLS = 2000
_MAX_BURST_S = 60.0
_POLL_GAP_S = 0.002


def poll_until(
    client: httpx.Client,
    done: Callable[[], bool],
    name: str,
    max_polls: int = _MAX_POLLS,
    max_s: float = _MAX_BURST_S,
) -> list[float]:
    """Seconds per /healthz answer, polled until ``done()`` (bounded in count and time)."""
    latencies: list[float] = []
    deadline = time.monotonic() + max_s
    while not done() and len(latencies) < max_polls:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: the load is still running after the limit")
        start = time.perf_counter()
        if client.get("/healthz").status_code != 200:
            raise RuntimeError(f"{name}: /healthz failed under load")
        latencies.append(time.perf_counter() - start)
        time.sleep(_POLL_GAP_S)
    return latencies


def poll_during_burst(server: servers.Server, payload: HttpPayload) -> list[float]:
    """Seconds per /healthz answer, polled while the large requests are in flight."""
    with (
        httpx.Client(base_url=server.base_url, timeout=servers.REQUEST_TIMEOUT_S) as client,
        ThreadPoolExecutor(PARALLEL_LARGE) as pool,
    ):
        client.get("/healthz")  # connect before the burst, so polls measure only the server
        large = [pool.submit(servers.post_checked, server, payload) for _ in range(PARALLEL_LARGE)]
        latencies = poll_until(client, lambda: all(f.done() for f in large), server.name)
        for future in large:
            future.result()
    return latencies


def latency_summary(samples: list[float]) -> dict[str, Any]:
    return {
        "polls": len(samples),
        "p50_ms": median(samples) * 1e3,
        "p99_ms": percentile(samples, 99) * 1e3,
        "max_ms": max(samples) * 1e3,
    }


# --- the mixed load ------------------------------------------------------------------------------

MIXED_CONNECTIONS = 16
# The mix runs longer than a burst (each chunked request streams 64 MiB before its 413); it is still
# bounded in requests, polls and time.
MIXED_PER_CONNECTION = 5
_MIXED_MAX_POLLS = 20_000
_MIXED_MAX_S = 180.0
_PIECE = 256 * 1024  # bytes sent between checks for an early answer
DEFAULTS = {name: field.default for name, field in Settings.model_fields.items()}  # the bench server's
RESET = 0  # the status recorded when the connection closed before an answer could be read


# The status each kind of request must get (or RESET, when the server closed while it was sent).
EXPECTED = {
    "large": 200,
    "over_body": 413,
    "over_body_chunked": 413,
    "over_inflated": 413,
    "over_elements": 413,
}


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix: its head, a factory for its body's pieces, and how many body
    bytes make it over its limit (0: the head already is; None: never)."""

    name: str
    head: bytes
    pieces: Callable[[], Iterator[bytes]]
    over_at: int | None


def _head(*lines: str) -> bytes:
    common = ["POST /v1/cross-entropy/sparse HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    return ("\r\n".join([*common, *lines, "Connection: close"]) + "\r\n\r\n").encode("ascii")


def _sized(name: str, body: bytes, *lines: str, over: bool = True) -> Kind:
    def pieces() -> Iterator[bytes]:
        return (body[i : i + _PIECE] for i in range(0, len(body), _PIECE))

    # Over a limit only the server can see (inflated size, element count): once it has the whole body.
    return Kind(name, _head(*lines, f"Content-Length: {len(body)}"), pieces, len(body) if over else None)


def _zeros(name: str, total: int, over_at: int, *lines: str, chunked: bool) -> Kind:
    zero = bytes(_PIECE)
    piece = b"%x\r\n%b\r\n" % (_PIECE, zero) if chunked else zero
    return Kind(name, _head(*lines), lambda: (piece for _ in range(-(-total // _PIECE))), over_at)


def mixed_kinds() -> list[Kind]:
    """The mix, built once per load: one large request and four over a limit."""
    body_limit = int(DEFAULTS["max_body_bytes"])
    over = body_limit + 4 * _PIECE
    # ~65 KB of gzip inflating past the inflated limit (by default the body limit).
    bomb = gzip.compress(b"{" + b" " * over + b"}", compresslevel=9)
    side = int(DEFAULTS["max_elements"] ** 0.5) + 1  # side² elements: just over the limit
    too_many = {"dtype": "float32", "shape": [side, side], "data": "AAAAAA=="}
    return [
        _sized("large", http_payload(*LARGE, "tensor").body, over=False),
        _zeros("over_body", over, 0, f"Content-Length: {over}", chunked=False),
        _zeros("over_body_chunked", over, body_limit + 1, "Transfer-Encoding: chunked", chunked=True),
        _sized("over_inflated", bomb, "Content-Encoding: gzip"),
        _sized("over_elements", orjson.dumps({"logits": too_many, "labels": [0] * side})),
    ]


def exchange(address: tuple[str, int], kind: Kind) -> tuple[int, float, float | None]:
    """Send one request on a connection of its own, stopping as soon as an answer arrives. Returns
    the answer's status (RESET if none could be read), the seconds until its status line, and the
    seconds from the moment the request was over its limit (as sent) to the status line."""
    start = time.perf_counter()
    over = start if kind.over_at == 0 else None
    sent = 0
    with socket.create_connection(address, timeout=servers.REQUEST_TIMEOUT_S) as sock:
        try:
            sock.sendall(kind.head)
            for piece in kind.pieces():
                if select.select([sock], [], [], 0)[0]:
                    break  # answered before the whole body was sent: a refusal
                sock.sendall(piece)
                sent += len(piece)
                if over is None and kind.over_at is not None and sent >= kind.over_at:
                    over = time.perf_counter()
        except OSError:
            pass  # the server answered and closed while this side was sending; the answer may wait
        try:
            line = sock.makefile("rb").readline()
        except OSError:
            line = b""
    end = time.perf_counter()
    status = int(line.split()[1]) if line.startswith(b"HTTP/") else RESET
    return status, end - start, None if over is None else end - over


def mixed_load(base_url: str, per_connection: int, started: Event, results: "Queue[Any]") -> None:
    """Run in a child process: the mix on MIXED_CONNECTIONS threads; puts the outcomes on ``results``."""
    kinds = mixed_kinds()
    split = urlsplit(base_url)
    address = (split.hostname or "127.0.0.1", split.port or 80)

    def connection(index: int) -> list[tuple[str, int, float, float | None]]:
        picks = [kinds[(index + n) % len(kinds)] for n in range(per_connection)]
        return [(kind.name, *exchange(address, kind)) for kind in picks]

    started.set()
    with ThreadPoolExecutor(MIXED_CONNECTIONS) as pool:
        outcomes = [o for done in pool.map(connection, range(MIXED_CONNECTIONS)) for o in done]
    results.put(outcomes)


def poll_during_mixed_load(server: servers.Server, per_connection: int) -> dict[str, Any]:
    """/healthz latencies while the mixed load runs, and what each kind of request was answered."""
    context = multiprocessing.get_context("spawn")
    started, results = context.Event(), context.Queue()
    child = context.Process(target=mixed_load, args=(server.base_url, per_connection, started, results))
    with httpx.Client(base_url=server.base_url, timeout=servers.REQUEST_TIMEOUT_S) as client:
        client.get("/healthz")
        child.start()
        try:
            if not started.wait(_MAX_BURST_S):
                raise RuntimeError(f"{server.name}: the mixed load did not start")
            latencies = poll_until(
                client, lambda: not results.empty(), server.name, _MIXED_MAX_POLLS, _MIXED_MAX_S
            )
            outcomes: list[tuple[str, int, float, float | None]] = results.get(timeout=_MIXED_MAX_S)
        finally:
            child.join(_MIXED_MAX_S)
            if child.is_alive():
                child.kill()
    wrong = [(name, status) for name, status, *_ in outcomes if status not in (EXPECTED[name], RESET)]
    if wrong:
        raise RuntimeError(f"{server.name}: unexpected answers in the mixed load: {wrong[:5]}")
    kinds: dict[str, dict[str, Any]] = {}
    for name in EXPECTED:
        mine = [outcome[1:] for outcome in outcomes if outcome[0] == name]
        seconds = [total for _, total, _ in mine]
        kinds[name] = {
            "answers": dict(Counter("reset" if status == RESET else str(status) for status, *_ in mine)),
            "p50_ms": median(seconds) * 1e3,
            "max_ms": max(seconds) * 1e3,
        }
    # How long after a request was over its limit the 413 came: the contract's "at once".
    refused_after = [after for _, status, _, after in outcomes if status == 413 and after is not None]
    return {
        "connections": MIXED_CONNECTIONS,
        "requests": len(outcomes),
        "kinds": kinds,
        "refused_after_p99_ms": percentile(refused_after, 99) * 1e3,
        "refused_after_max_ms": max(refused_after) * 1e3,
        "healthz": latency_summary(latencies),
    }


def run(quick: bool, out_dir: Path) -> Path:
    bursts = 1 if quick else 5
    results: dict[str, dict[str, Any]] = {}
    for form in FORMS:
        payload = http_payload(*LARGE, form)
        for name in ("service", "peer") if form == "json" else ("service",):
            with servers.running(name, out_dir / "logs") as server:
                servers.post_checked(server, payload)  # warm-up, and checks the answer
                samples = [s for _ in range(bursts) for s in poll_during_burst(server, payload)]
            key = f"{name}/{form}/{payload.name}"
            results[key] = latency_summary(samples)
            print(f"responsiveness {key}: {results[key]}", flush=True)
    with servers.running("service", out_dir / "logs") as server:
        mixed = poll_during_mixed_load(server, per_connection=1 if quick else MIXED_PER_CONNECTION)
    print(f"responsiveness mixed: {mixed}", flush=True)
    return write_result(out_dir, "responsiveness", {"bursts": bursts, "results": results, "mixed": mixed})


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
