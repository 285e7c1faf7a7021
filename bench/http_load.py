"""HTTP bench: the service and the typical FastAPI peer under uvicorn, driven by wrk.

Both servers run side by side on 127.0.0.1; the runs alternate service / peer within each round and
ratios are taken per round. Every body is checked once against the float64 loss before timing.
"""

import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers
from bench.common import BENCH_DIR, stage_args, write_result
from bench.payloads import FORMS, HttpPayload, http_payload
from bench.stats import median

PAYLOAD_SHAPES = ((256, 10), (1024, 1000), (64, 32000))
CONCURRENCY = (1, 8)
WRK_SCRIPT = BENCH_DIR / "wrk_post.lua"
# wrk's 2 s default would drop the slow peer's queued requests at c=8.
_WRK_TIMEOUT_S = int(servers.REQUEST_TIMEOUT_S)


@dataclass(frozen=True)
class Target:
    """One (server, payload) pair and the body file wrk posts."""

    server: servers.Server
    payload: HttpPayload
    body_file: Path
    seconds_per_request: float

    @property
    def key(self) -> str:
        return f"{self.server.name}/{self.payload.form}/{self.payload.name}"


def wrk(url: str, body_file: Path, connections: int, duration_s: float) -> dict[str, Any]:
    """One wrk run (whole seconds: wrk takes no fractions); fails on any error or non-2xx."""
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{math.ceil(duration_s)}s",
        f"--timeout={_WRK_TIMEOUT_S}s",
    ]
    cmd += ["-s", str(WRK_SCRIPT), url, "--", str(body_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    stats: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    failures = {k: v for k, v in stats["errors"].items() if v}
    if failures or stats["requests"] == 0:
        raise RuntimeError(f"wrk {url} c={connections}: {stats['requests']} ok, errors {failures}")
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    return stats


def run_duration(
    target: Target, connections: int, base_s: float, min_requests: int, cap_s: float
) -> float:
    # A one-worker server completes about one request per service time whatever the concurrency,
    # and c requests arrive at once at the start: a slow case gets a run long enough to fill that
    # queue and still finish a handful of requests.
    needed = (min_requests + connections) * target.seconds_per_request
    return min(cap_s, max(base_s, needed))


# ratio name -> (numerator, denominator) key prefixes; both are throughputs, so > 1 = faster.
RATIOS = {
    "json_vs_peer": ("service/json", "peer/json"),
    "tensor_vs_json": ("service/tensor", "service/json"),
}


def _rps(runs: dict[str, list[dict[str, Any]]], key: str, connections: int) -> list[float]:
    return [r["rps"] for r in runs[key] if r["connections"] == connections]


def ratio_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Throughput ratios taken within each round, median over rounds."""
    ratios: dict[str, float] = {}
    for rows, classes in PAYLOAD_SHAPES:
        for c in CONCURRENCY:
            for ratio, (num, den) in RATIOS.items():
                a = _rps(runs, f"{num}/{rows}x{classes}", c)
                b = _rps(runs, f"{den}/{rows}x{classes}", c)
                ratios[f"{ratio}/{rows}x{classes}/c{c}"] = median(
                    [x / y for x, y in zip(a, b, strict=True)]
                )
    return ratios


def run(quick: bool, out_dir: Path) -> Path:
    rounds, base_s, min_requests, cap_s = (1, 1.0, 2, 6.0) if quick else (3, 3.0, 6, 20.0)
    with (
        tempfile.TemporaryDirectory(prefix="bench-bodies-") as tmp,
        servers.running("service", out_dir / "logs") as service,
        servers.running("peer", out_dir / "logs") as peer,
    ):
        targets = []
        for rows, classes in PAYLOAD_SHAPES:
            for form in FORMS:
                payload = http_payload(rows, classes, form)
                body_file = Path(tmp) / f"{form}-{payload.name}.json"
                body_file.write_bytes(payload.body)
                # The peer takes only plain JSON, as typical services do.
                for server in (service, peer) if form == "json" else (service,):
                    seconds = servers.post_checked(server, payload)
                    targets.append(Target(server, payload, body_file, seconds))
        runs: dict[str, list[dict[str, Any]]] = {t.key: [] for t in targets}
        for round_index in range(rounds):
            ordered = targets if round_index % 2 == 0 else targets[::-1]
            for c in CONCURRENCY:
                for target in ordered:
                    duration = run_duration(target, c, base_s, min_requests, cap_s)
                    stats = wrk(target.server.sparse_url, target.body_file, c, duration)
                    stats.update(connections=c, round=round_index)
                    runs[target.key].append(stats)
                    print(f"http {target.key} c={c}: {stats['rps']:.1f} req/s", flush=True)
    summary = {
        key: {
            f"c{c}": {
                metric: median([r[metric] for r in results if r["connections"] == c])
                for metric in ("rps", "p50_us", "p99_us")
            }
            for c in CONCURRENCY
        }
        for key, results in runs.items()
    }
    body_bytes = {t.key: len(t.payload.body) for t in targets}
    return write_result(
        out_dir,
        "http",
        {
            "rounds": rounds,
            "summary": summary,
            "ratios": ratio_summary(runs),
            "body_bytes": body_bytes,
            "runs": runs,
        },
    )


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
