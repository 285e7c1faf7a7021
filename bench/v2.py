"""V2 bench: the service's Open Inference Protocol beside MLServer 1.7.1's, the memory of a binary
request, and where a small request's CPU goes.

Throughput: closed-loop runs at c=1 (bench/loadgen.py), service and MLServer side by side, the order
alternating between rounds; ratios are taken within each round, then the median. The service's V2
bodies use Triton's binary tensor extension both ways ("v2-binary") or plain V2 JSON ("v2-json");
MLServer gets V2 JSON (its binary extension is probed once and its answer recorded). Every body is
checked once against the float64 loss. Memory: VmHWM above idle for one binary 64x32000 request in a
fresh, warmed service process (as bench/memory.py). Profile: cProfile of the service's ASGI app
called in-process (no sockets) for small requests, grouped by package.
"""

import asyncio
import cProfile
import logging
import os
import pstats
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import memory, mlserver, servers
from bench.common import REPO_ROOT, stage_args, write_result
from bench.http_load import Plan, Target, measure, seconds_per_request
from bench.payloads import HttpPayload, http_payload
from bench.stats import median

LARGE = (1024, 1000)
SMALL = (256, 10)
MEMORY = (64, 32000)
FULL = Plan(rounds=3, run_s=2.0, min_requests=6, cap_s=15.0)
QUICK = Plan(rounds=1, run_s=0.3, min_requests=0, cap_s=2.0)
# (ratio, numerator key, denominator key): throughputs, so > 1 = the service is faster.
RATIOS = (
    ("v2-binary vs MLServer v2-json 1024x1000", "service/v2-binary/1024x1000", "mlserver/v2-json/1024x1000"),
    ("/v1 json vs MLServer v2-json 256x10", "service/json/256x10", "mlserver/v2-json/256x10"),
    ("v2-binary vs MLServer v2-json 256x10", "service/v2-binary/256x10", "mlserver/v2-json/256x10"),
    ("v2-json vs MLServer v2-json 256x10", "service/v2-json/256x10", "mlserver/v2-json/256x10"),
    # The floor: the bare app that only receives the body (bench/investigations/floor_apps.py)
    # over the service's V2 binary, so at most 1.2 = within 1.2x of it.
    ("bare-read vs v2-binary 1024x1000", "bare-read/v2-binary/1024x1000", "service/v2-binary/1024x1000"),
)
PROFILE_REQUESTS = 2000
TOP = 12


def _throughput(quick: bool, out_dir: Path) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    logs = out_dir / "logs"
    with (
        servers.running("service", logs) as service,
        mlserver.running(logs) as peer,
        servers.running("bare-read", logs) as bare,
    ):
        probe = _probe_binary(peer)
        cases = [
            (service, http_payload(*LARGE, "v2-binary")),
            (bare, http_payload(*LARGE, "v2-binary")),
            (peer, http_payload(*LARGE, "v2-json")),
            (service, http_payload(*SMALL, "json")),
            (service, http_payload(*SMALL, "v2-binary")),
            (service, http_payload(*SMALL, "v2-json")),
            (peer, http_payload(*SMALL, "v2-json")),
        ]
        targets = []
        for server, payload in cases:
            servers.checked(server, payload)
            targets.append(Target(server, payload, seconds_per_request(server, payload)))
        runs = measure(targets, plan, concurrency=(1,), stage="v2")
    summary = {
        key: {
            "rps": median([r["rps"] for r in rows]),
            "p50_us": median([r["p50_us"] for r in rows]),
            "p99_us": median([r["p99_us"] for r in rows]),
        }
        for key, rows in runs.items()
    }
    ratios = {
        name: median([a["rps"] / b["rps"] for a, b in zip(runs[num], runs[den], strict=True)])
        for name, num, den in RATIOS
    }
    body_bytes = {t.key: len(t.payload.body) for t in targets}
    return {
        "rounds": plan.rounds,
        "summary": summary,
        "ratios": ratios,
        "body_bytes": body_bytes,
        "runs": runs,
        "mlserver_binary_probe": probe,
    }


def _probe_binary(peer: servers.Server) -> dict[str, Any]:
    """MLServer's answer to a binary-extension request (1.7.1 fails it; recorded, not hidden)."""
    payload = http_payload(*SMALL, "v2-binary")
    response = httpx.post(
        peer.base_url + payload.path, content=payload.body, headers=dict(payload.headers), timeout=30
    )
    return {"status": response.status_code, "body": response.text[:200]}


def _memory(quick: bool, out_dir: Path) -> dict[str, Any]:
    payload = http_payload(*MEMORY, "v2-binary")
    with servers.running("service", out_dir / "logs") as server:
        servers.post_checked(server, http_payload(*SMALL, "v2-binary"))
        results = [memory.peak_above_idle(server, payload) for _ in range(1 if quick else 2)]
    return {"payload": f"v2-binary {payload.name}", "results": results}


def _profile(payload: HttpPayload) -> dict[str, Any]:
    """cProfile of `PROFILE_REQUESTS` requests through the whole ASGI app (middleware included)."""
    from service.main import create_app  # the bench process imports the service only here

    app = create_app()
    _quiet_access_log()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": payload.path,
        "raw_path": payload.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in payload.headers]
        + [(b"content-length", str(len(payload.body)).encode()), (b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": payload.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def requests(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    async def lifespan_and_run() -> float:
        async with app.router.lifespan_context(app):
            await requests(50)  # warm-up
            profiler = cProfile.Profile()
            start = time.perf_counter()
            profiler.enable()
            await requests(PROFILE_REQUESTS)
            profiler.disable()
            elapsed = time.perf_counter() - start
            profiler.dump_stats(str(_PROFILE_FILE))
            return elapsed

    elapsed = asyncio.run(lifespan_and_run())
    assert set(statuses) == {200}, statuses
    stats = pstats.Stats(str(_PROFILE_FILE))
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, _, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        group = _group(filename)
        groups[group] = groups.get(group, 0.0) + tottime
        functions.append((tottime, cumtime, f"{_short(filename)}:{line} {name}"))
    functions.sort(reverse=True)
    return {
        "requests": PROFILE_REQUESTS,
        "us_per_request_profiled": elapsed / PROFILE_REQUESTS * 1e6,
        "self_time_share_by_group": {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "top_self_time": [[f"{t / total:.1%}", f"{c / total:.1%}", where] for t, c, where in functions[:TOP]],
    }


def _quiet_access_log() -> None:
    """The access log to /dev/null: a server writes it to a pipe or file, not to this terminal."""
    from service.observability.jsonlog import ACCESS_LOGGER

    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


_PROFILE_FILE = Path(tempfile.gettempdir()) / "loss-service-v2-bench.prof"
_GROUPS = (
    ("service/api/v2/", "service: V2 front end"),
    ("service/api/", "service: HTTP layer (/v1, shared)"),
    ("service/losses/", "service: numerical core"),
    ("service/observability/", "service: logs and metrics"),
    ("service/", "service: other"),
    ("/starlette/", "starlette"),
    ("/fastapi/", "fastapi"),
    ("/pydantic", "pydantic"),
    ("/numpy/", "numpy (Python side)"),
    ("/asyncio/", "asyncio"),
    ("/prometheus_client/", "prometheus_client"),
    ("/logging/", "logging"),
)


def _group(filename: str) -> str:
    if filename == "~":
        return "builtins and C functions (numpy, orjson, ...)"
    for marker, name in _GROUPS:
        if marker in filename:
            return name
    return "other Python"


def _short(filename: str) -> str:
    for marker in (str(REPO_ROOT) + "/", "site-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _revision() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return out.stdout.strip()


def run(quick: bool, out_dir: Path) -> Path:
    started = time.monotonic()
    data: dict[str, Any] = {"revision": _revision(), "mlserver": mlserver.VERSION}
    data["http"] = _throughput(quick, out_dir)
    data["memory"] = _memory(quick, out_dir)
    data["profile"] = {form: _profile(http_payload(*SMALL, form)) for form in ("v2-binary", "json")}
    data["elapsed_s"] = time.monotonic() - started
    data["load_average_end"] = os.getloadavg()
    for name, value in data["http"]["ratios"].items():
        print(f"v2 {name}: {value:.2f}x", flush=True)
    return write_result(out_dir, "v2", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
