"""Floor bench: how fast uvicorn lets any app answer these requests, step by step, beside the service.

Bare ASGI apps (`bench/floor_apps.py`) each add one of the service's steps, with the service's own
code: reading the body, copying it into one buffer, a thread hop, the evaluation. They run side by
side with the service on 127.0.0.1 under the same uvicorn options, at c=1, alternating within each
round. The gap between the last bare app and the service is FastAPI, the middleware and the access
log; the bare apps' Tensor throughput over the service's JSON throughput is as high as the
Tensor-over-JSON ratio could go with this server on this machine.
"""

from pathlib import Path

from bench import servers
from bench.common import stage_args, write_result
from bench.http_load import Plan, Target, measure, seconds_per_request
from bench.payloads import http_payload
from bench.stats import median

FULL = Plan(rounds=3, run_s=1.5, min_requests=6, cap_s=10.0)
QUICK = Plan(rounds=1, run_s=0.2, min_requests=0, cap_s=2.0)
# (rows, classes, form): a small JSON body and the Tensor body of the 12x target.
PAYLOADS = ((256, 10, "json"), (1024, 1000, "tensor"))
# The target ratio's denominator, measured here too so that every ratio comes from one stage.
DENOMINATOR = (1024, 1000, "json")
NAMES = [f"bare-{step}" for step in servers.BARE_STEPS] + ["service"]


def run(quick: bool, out_dir: Path) -> Path:
    plan = QUICK if quick else FULL
    logs = out_dir / "logs"
    with servers.running_all(NAMES, logs) as running:
        targets = []
        for rows, classes, form in (*PAYLOADS, DENOMINATOR):
            payload = http_payload(rows, classes, form)
            for server in running if (rows, classes, form) != DENOMINATOR else running[-1:]:
                servers.checked(server, payload)
                targets.append(Target(server, payload, seconds_per_request(server, payload)))
        runs = measure(targets, plan, concurrency=(1,), stage="floor")
    json_rps = [r["rps"] for r in runs["service/json/1024x1000"]]
    data = {
        "rounds": plan.rounds,
        "summary": {
            key: {metric: median([r[metric] for r in results]) for metric in ("rps", "p50_us")}
            for key, results in runs.items()
        },
        # Per round, then the median: each app's Tensor throughput over the service's JSON throughput.
        "tensor_vs_service_json": {
            name: median(
                [r["rps"] / j for r, j in zip(runs[f"{name}/tensor/1024x1000"], json_rps, strict=True)]
            )
            for name in NAMES
        },
        "runs": runs,
    }
    return write_result(out_dir, "floor", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
