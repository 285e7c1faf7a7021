"""MLServer 1.7.1 as a V2 peer, in a virtual environment of its own (bench/.venv-mlserver: its pins
clash with ours), made on first use with pip, then reused. One process: parallel_workers 0 runs
inference in the server process, the cheapest setting MLServer has."""

import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

from bench import servers
from bench.common import BENCH_DIR, bench_env

VERSION = "1.7.1"
VENV = BENCH_DIR / ".venv-mlserver"
MODEL_DIR = BENCH_DIR / "peers" / "mlserver_model"
MODEL = "sparse_cross_entropy"
_VENV_TIMEOUT_S = 120
_INSTALL_TIMEOUT_S = 900


def executable() -> Path:
    """The `mlserver` command, installing it into its virtual environment the first time."""
    command = VENV / "bin" / "mlserver"
    if not command.exists():
        print(f"installing mlserver=={VERSION} into {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=_VENV_TIMEOUT_S)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", f"mlserver=={VERSION}"]
        subprocess.run(pip, check=True, timeout=_INSTALL_TIMEOUT_S)
    return command


def running(log_dir: Path) -> AbstractContextManager[servers.Server]:
    command = executable()
    ports = [servers.free_port(), servers.free_port()]  # gRPC and metrics, which it always serves
    env = {
        **bench_env(),
        "MLSERVER_HOST": "127.0.0.1",
        "MLSERVER_GRPC_PORT": str(ports[0]),
        "MLSERVER_METRICS_PORT": str(ports[1]),
        "MLSERVER_PARALLEL_WORKERS": "0",
        "MLSERVER_DEBUG": "false",
    }

    def start(port: int) -> list[str]:
        env["MLSERVER_HTTP_PORT"] = str(port)
        return [str(command), "start", str(MODEL_DIR)]

    return servers.serving(
        "mlserver", start, log_dir, health_path=f"/v2/models/{MODEL}/ready", env=env, cwd=MODEL_DIR
    )
