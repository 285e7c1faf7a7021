"""Paths, the child-process environment and result files shared by every bench stage."""

import argparse
import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"

# Set on some machines to work around old OpenBLAS bugs; they pin a slower kernel than a current
# numpy picks, so the bench runs without them (machine.json records the kernel in use).
_UNSET_FOR_BENCH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "WEB_CONCURRENCY")


def bench_env() -> dict[str, str]:
    """The environment for bench processes and the servers they start."""
    env = {k: v for k, v in os.environ.items() if k not in _UNSET_FOR_BENCH}
    # Servers run with their default limits: an operator's LOSS_SERVICE_* must not skew them.
    return {k: v for k, v in env.items() if not k.startswith("LOSS_SERVICE_")}


def write_result(out_dir: Path, name: str, data: Any) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def read_result(out_dir: Path, name: str) -> Any:
    path = out_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def stage_args(description: str, argv: list[str] | None = None) -> tuple[bool, Path]:
    """The two options every stage takes: `--quick` and `--out DIR`; returns (quick, out_dir)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short run to check the harness")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    args = parser.parse_args(argv)
    return args.quick, args.out or default_out_dir(args.quick)


def default_out_dir(quick: bool) -> Path:
    # Quick runs land apart so they never overwrite the committed full-run results.
    return RESULTS_DIR / "quick" if quick else RESULTS_DIR
