"""The one bench command: every stage in its own process, then the report.

`python -m bench.run_all` (about 9 minutes on 2 cores) or `--quick` (about a minute, results in
bench/results/quick/). Stages run with the OpenBLAS overrides unset (see bench/common.py).
"""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import report
from bench.common import REPO_ROOT, bench_env, stage_args, write_result

STAGES = (
    "machine",
    "core",
    "http_load",
    "investigations.floor",
    "memory",
    "responsiveness",
    "investigations.profiling",
    "v2",
)


# The run's own outputs: a change anywhere else means the code measured is not the commit's.
_OUTPUTS = ("bench/results", "bench/README.md", "bench/throughput.png")


def _revision() -> str:
    """The commit measured, "-dirty" when the work tree has changes other than the bench's outputs."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--", ".", *(f":(exclude){path}" for path in _OUTPUTS))
    return head + ("-dirty" if changed else "")


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    quick, out_dir = stage_args(__doc__ or "", argv)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    revision = _revision()
    start = time.monotonic()
    flags = ["--out", str(out_dir)] + (["--quick"] if quick else [])
    stage_s = {}
    for stage in STAGES:
        print(f"== {stage}", flush=True)
        cmd = [sys.executable, "-m", f"bench.{stage}", *flags]
        stage_start = time.monotonic()
        subprocess.run(cmd, cwd=REPO_ROOT, env=bench_env(), check=True)
        stage_s[stage] = time.monotonic() - stage_start
    run = {
        "quick": quick,
        "started_utc": started,
        "elapsed_s": time.monotonic() - start,
        "stage_s": stage_s,
        # Stages start servers at different times: a tree changed meanwhile mixes versions.
        "revision_start": revision,
        "revision_end": _revision(),
        "load_average_end": os.getloadavg(),
        "openblas_env_in_caller": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }
    write_result(out_dir, "run", run)
    readme, chart = report.outputs(quick, out_dir)
    report.write(out_dir, readme, chart)
    print(f"wrote {readme} and {chart} in {run['elapsed_s'] / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
