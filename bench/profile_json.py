"""Where the time goes: py-spy samples the service while it answers 1024x1000 JSON requests.

The requests go one at a time; py-spy skips idle threads, so the samples are the request's own work.
Self time is grouped by source line, inclusive time by function.
"""

import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import servers
from bench.common import stage_args, write_result
from bench.payloads import http_payload

PAYLOAD = (1024, 1000)
TOP = 15
_RATE_HZ = 250


def py_spy() -> str | None:
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


def summarise(raw: str, top: int = TOP) -> dict[str, Any]:
    """Self and inclusive shares from py-spy's raw (collapsed-stack) output."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_time[frames[-1]] += count
        # "func (file.py:12)" -> "func (file.py)": a function counts once per stack.
        for function in {frame.rsplit(":", 1)[0] + ")" for frame in frames}:
            inclusive[function] += count
    return {
        "samples": total,
        "self": [(frame, n / total) for frame, n in self_time.most_common(top)],
        # Deeper: the wrappers (threads, event loop, ASGI layers) take the first places.
        "inclusive": [(frame, n / total) for frame, n in inclusive.most_common(4 * top)],
    }


def profile(executable: str, requests: int, log_dir: Path) -> dict[str, Any]:
    payload = http_payload(*PAYLOAD, "json")
    with servers.running("service", log_dir) as server, tempfile.TemporaryDirectory() as tmp:
        servers.post_checked(server, payload)  # warm-up outside the profile
        raw_file = Path(tmp) / "raw.txt"
        cmd = [executable, "record", "--pid", str(server.pid), "--format", "raw"]
        cmd += ["--rate", str(_RATE_HZ), "--output", str(raw_file)]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as spy:
            assert spy.stdout is not None
            spy.stdout.readline()  # "Sampling process ..." once it is attached
            seconds = [servers.post_checked(server, payload) for _ in range(requests)]
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        summary = summarise(raw_file.read_text())
    summary.update(requests=requests, mean_request_s=sum(seconds) / requests)
    return summary


def run(quick: bool, out_dir: Path) -> Path:
    executable = py_spy()
    if executable is None:
        data: dict[str, Any] = {"available": False}
    else:
        data = {"available": True, "payload": f"{PAYLOAD[0]}x{PAYLOAD[1]}/json"}
        data.update(profile(executable, 5 if quick else 20, out_dir / "logs"))
        print(f"profile: {data['samples']} samples, top self {data['self'][:3]}", flush=True)
    return write_result(out_dir, "profile", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
