"""What the bench ran on: CPU, memory, kernel, library builds and the BLAS kernel numpy picked."""

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np

from bench.common import stage_args, write_result

_PACKAGES = ("numpy", "torch", "fastapi", "pydantic", "uvicorn", "uvloop", "httptools", "orjson")


def _lscpu() -> dict[str, str]:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    keep = (
        "Model name",
        "CPU(s)",
        "Thread(s) per core",
        "L2 cache",
        "L3 cache",
        "Hypervisor vendor",
    )
    return {k: fields[k].strip() for k in keep if k in fields}


def _memory_gib() -> float:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    return round(total_kib / 2**20, 1)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _thread_pools() -> list[dict[str, Any]]:
    """BLAS/OpenMP pools loaded by numpy and torch (threadpoolctl, when installed)."""
    try:
        import threadpoolctl
        import torch  # noqa: F401  (loads torch's pools so they are listed too)
    except ImportError:
        return []
    keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: pool.get(k) for k in keys} for pool in threadpoolctl.threadpool_info()]


def _torch_build() -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {}
    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(),
        "onednn": torch.backends.mkldnn.is_available(),
        "default_threads": torch.get_num_threads(),
    }


def describe() -> dict[str, Any]:
    numpy_config = np.show_config(mode="dicts")
    return {
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _lscpu(),
        "cores_available": len(os.sched_getaffinity(0)),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": {p: _version(p) for p in _PACKAGES},
        "numpy_simd": numpy_config["SIMD Extensions"]["found"],
        "numpy_blas": numpy_config["Build Dependencies"]["blas"]["name"],
        "thread_pools": _thread_pools(),
        "torch_build": _torch_build(),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    _, out_dir = stage_args(__doc__ or "", argv)
    write_result(out_dir, "machine", describe())


if __name__ == "__main__":
    main()
