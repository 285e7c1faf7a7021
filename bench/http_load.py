"""HTTP bench: the service and the typical FastAPI peer under uvicorn, driven by `loadgen`.

Both servers run side by side on 127.0.0.1; the runs alternate service / peer within each round and
ratios are taken per round. Every body is checked once against the float64 loss before timing.
A run lasts a fixed number of responses (sized from one request's time), bounded by a time cap.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers
from bench.common import stage_args, write_result
from bench.loadgen import run_load
from bench.payloads import FORMS, HttpPayload, http_payload
from bench.stats import median, percentile

PAYLOAD_SHAPES = ((256, 10), (1024, 1000), (64, 32000))
# Multi-label JSON to the binary endpoint, beside the sparse payloads (service only: the peer has none).
MULTILABEL_SHAPES = ((256, 10), (1024, 1000))
CONCURRENCY = (1, 8)
_CALIBRATION_REQUESTS = 3
# ratio name -> (numerator, denominator) key prefixes; both are throughputs, so > 1 = faster.
RATIOS = {
    "json_vs_peer": ("service/json", "peer/json"),
    "tensor_vs_json": ("service/tensor", "service/json"),
}


@dataclass(frozen=True)
class Plan:
    """How long each run is: about `run_s` of work, at least `min_requests` beyond the c queued
    at the start, and never longer than `cap_s`."""

    rounds: int
    run_s: float
    min_requests: int
    cap_s: float


FULL = Plan(rounds=5, run_s=3.0, min_requests=6, cap_s=20.0)
QUICK = Plan(rounds=1, run_s=0.3, min_requests=0, cap_s=2.0)


@dataclass(frozen=True)
class Target:
    """One (server, payload) pair and one request's time."""

    server: servers.Server
    payload: HttpPayload
    seconds_per_request: float

    @property
    def key(self) -> str:
        return f"{self.server.name}/{self.payload.form}/{self.payload.name}"

    def responses(self, connections: int, plan: Plan) -> int:
        return max(plan.min_requests + connections, math.ceil(plan.run_s / self.seconds_per_request))


def seconds_per_request(server: servers.Server, payload: HttpPayload) -> float:
    """One request's time from a few sequential ones, to size the runs."""
    url = server.base_url + payload.path
    result = run_load(url, payload.body, _CALIBRATION_REQUESTS, 1, cap_s=60.0, headers=payload.headers)
    return result.seconds / result.requests


def load(target: Target, connections: int, plan: Plan) -> dict[str, Any]:
    """One closed-loop run; fails on any answer other than 200."""
    responses = target.responses(connections, plan)
    payload = target.payload
    url = target.server.base_url + payload.path
    result = run_load(url, payload.body, responses, connections, plan.cap_s, headers=payload.headers)
    if result.failures:
        raise RuntimeError(f"{target.key} c={connections}: answers {result.failures}")
    return {
        "connections": connections,
        "requests": result.requests,
        "seconds": result.seconds,
        "capped": result.requests < responses,
        "rps": result.rps,
        "p50_us": percentile(result.latencies_s, 50) * 1e6,
        "p99_us": percentile(result.latencies_s, 99) * 1e6,
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
                ratios[f"{ratio}/{rows}x{classes}/c{c}"] = median([x / y for x, y in zip(a, b, strict=True)])
    return ratios


def measure(
    targets: list[Target], plan: Plan, concurrency: tuple[int, ...] = CONCURRENCY, stage: str = "http"
) -> dict[str, list[dict[str, Any]]]:
    """Every target at every concurrency once a round, the order alternating between rounds."""
    runs: dict[str, list[dict[str, Any]]] = {t.key: [] for t in targets}
    for round_index in range(plan.rounds):
        ordered = targets if round_index % 2 == 0 else targets[::-1]
        for c in concurrency:
            for target in ordered:
                stats = load(target, c, plan)
                stats["round"] = round_index
                runs[target.key].append(stats)
                print(f"{stage} {target.key} c={c}: {stats['rps']:.1f} req/s", flush=True)
    return runs


def run(quick: bool, out_dir: Path) -> Path:
    plan = QUICK if quick else FULL
    with (
        servers.running("service", out_dir / "logs") as service,
        servers.running("peer", out_dir / "logs") as peer,
    ):
        targets = []
        for rows, classes in PAYLOAD_SHAPES:
            for form in FORMS:
                payload = http_payload(rows, classes, form)
                # The peer takes only plain JSON, as typical services do.
                for server in (service, peer) if form == "json" else (service,):
                    servers.post_checked(server, payload)  # warm-up and correctness check
                    targets.append(Target(server, payload, seconds_per_request(server, payload)))
        for rows, classes in MULTILABEL_SHAPES:
            payload = http_payload(rows, classes, "multilabel-json")
            servers.post_checked(service, payload)
            targets.append(Target(service, payload, seconds_per_request(service, payload)))
        runs = measure(targets, plan)
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
    data = {
        "rounds": plan.rounds,
        "summary": summary,
        "ratios": ratio_summary(runs),
        "body_bytes": {t.key: len(t.payload.body) for t in targets},
        "runs": runs,
    }
    return write_result(out_dir, "http", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
