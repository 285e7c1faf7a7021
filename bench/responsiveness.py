"""Responsiveness bench: /healthz latency while the server processes two large requests.

Two 64x32000 requests go in on their own threads; meanwhile one keep-alive client polls /healthz
(bounded in count and time) until both have answered. Bursts are repeated and the samples pooled.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.common import stage_args, write_result
from bench.payloads import FORMS, HttpPayload, http_payload
from bench.stats import median, percentile

LARGE = (64, 32000)
PARALLEL_LARGE = 2
_MAX_POLLS = 2000
_MAX_BURST_S = 60.0
_POLL_GAP_S = 0.002


def poll_during_burst(server: servers.Server, payload: HttpPayload) -> list[float]:
    """Seconds per /healthz answer, polled while the large requests are in flight."""
    latencies: list[float] = []
    with (
        httpx.Client(base_url=server.base_url, timeout=servers.REQUEST_TIMEOUT_S) as client,
        ThreadPoolExecutor(PARALLEL_LARGE) as pool,
    ):
        client.get("/healthz")  # connect before the burst, so polls measure only the server
        large = [pool.submit(servers.post_checked, server, payload) for _ in range(PARALLEL_LARGE)]
        deadline = time.monotonic() + _MAX_BURST_S
        while not all(f.done() for f in large) and len(latencies) < _MAX_POLLS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name}: large requests still running after the limit")
            start = time.perf_counter()
            if client.get("/healthz").status_code != 200:
                raise RuntimeError(f"{server.name}: /healthz failed under load")
            latencies.append(time.perf_counter() - start)
            time.sleep(_POLL_GAP_S)
        for future in large:
            future.result()
    return latencies


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
            results[key] = {
                "polls": len(samples),
                "p50_ms": median(samples) * 1e3,
                "p99_ms": percentile(samples, 99) * 1e3,
                "max_ms": max(samples) * 1e3,
            }
            print(f"responsiveness {key}: {results[key]}", flush=True)
    return write_result(out_dir, "responsiveness", {"bursts": bursts, "results": results})


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
