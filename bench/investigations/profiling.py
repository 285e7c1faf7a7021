"""Where the time goes: py-spy samples the service while it answers 1024x1000 requests (JSON and
Tensor) and 256x10 JSON ones.

One fresh server per case, under closed-loop load at c=1. py-spy records native
frames and thread names. Its own idle detection misses most waits on this kernel, so samples
blocked in epoll or on a lock are dropped here by their native frames; time spent waiting for the
GIL is kept apart, since on the event-loop thread it is exactly the blocking this bench looks for.
"""

import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers
from bench.common import stage_args, write_result
from bench.loadgen import run_load
from bench.payloads import Form, HttpPayload, http_payload

TOP = 15
# Native unwinding pauses the server for each sample: a modest rate keeps the slow-down small.
_RATE_HZ = 100


@dataclass(frozen=True)
class Case:
    rows: int
    classes: int
    form: Form
    requests: int  # about four seconds of work in a full run
    connections: int = 1


CASES = (
    Case(1024, 1000, "json", 60),
    Case(1024, 1000, "tensor", 400),
    Case(256, 10, "json", 4000),
    # Two large requests at once, as in the responsiveness bench: who waits for the GIL.
    Case(64, 32000, "json", 40, connections=2),
)
_CAP_S = 60.0
# Native frames of a thread with nothing to do: the loop's poll, a worker waiting for a job.
_IDLE_FRAMES = ("epoll_wait", "epoll_pwait", "PyThread_acquire_lock_timed", "Condition.wait (")
# A thread waiting for the GIL: take_gil where libpython keeps its symbols; otherwise its timed
# condition wait, the one thing in this process that waits that way.
_GIL_FRAMES = ("take_gil", "pthread_cond_timedwait")


def py_spy() -> str | None:
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


def _is_python(frame: str) -> bool:
    return ".py:" in frame


def _thread_name(frame: str) -> str:
    # "thread (16614): AnyIO worker thread" -> "AnyIO worker thread"
    return frame.split("): ", 1)[-1]


def _shares(counter: Counter[str], busy: int, top: int) -> list[tuple[str, float]]:
    return [(key, n / busy) for key, n in counter.most_common(top)]


def summarise(raw: str, top: int = TOP) -> dict[str, Any]:
    """Shares of the busy samples in py-spy's raw output (`--threads --native`); GIL waits as
    shares of busy plus waiting samples.

    Self time is charged to the innermost Python line and, separately, to the innermost native
    frame; inclusive time to each Python function once per stack.
    """
    by_line: Counter[str] = Counter()
    by_native: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    gil_wait: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        thread, *frames = stack.split(";")
        if any(idle_frame in stack for idle_frame in _IDLE_FRAMES):
            idle += count
            continue
        if any(gil_frame in stack for gil_frame in _GIL_FRAMES):  # runnable, not running
            gil_wait[_thread_name(thread)] += count
            continue
        busy += count
        by_thread[_thread_name(thread)] += count
        python = [frame for frame in frames if _is_python(frame)]
        if python:
            by_line[python[-1]] += count
        if frames and not _is_python(frames[-1]):
            by_native[frames[-1]] += count
        # "func (file.py:12)" -> "func (file.py)": a function counts once per stack.
        for function in {frame.rsplit(":", 1)[0] + ")" for frame in python}:
            inclusive[function] += count
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "threads": _shares(by_thread, busy, top),
        "gil_wait": _shares(gil_wait, busy + gil_wait.total(), top),
        "self": _shares(by_line, busy, top),
        "native": _shares(by_native, busy, top),
        # Deeper: the wrappers (threads, event loop, ASGI layers) take the first places.
        "inclusive": _shares(inclusive, busy, 4 * top),
    }


def _timed_load(server: servers.Server, payload: HttpPayload, requests: int, connections: int) -> float:
    result = run_load(server.sparse_url, payload.body, requests, connections, cap_s=_CAP_S)
    if result.failures:
        raise RuntimeError(f"profiled requests failed: {result.failures}")
    return result.seconds / result.requests


def profile(executable: str, case: Case, requests: int, log_dir: Path) -> dict[str, Any]:
    """Sample the service under closed-loop load; the same load unprofiled first shows how much
    py-spy's pauses slow it down."""
    payload = http_payload(case.rows, case.classes, case.form)
    with servers.running("service", log_dir) as server, tempfile.TemporaryDirectory() as tmp:
        servers.post_checked(server, payload)  # warm-up and correctness check
        unprofiled_s = _timed_load(server, payload, requests, case.connections)
        raw_file = Path(tmp) / "raw.txt"
        cmd = [executable, "record", "--pid", str(server.pid), "--format", "raw", "--threads"]
        cmd += ["--native", "--rate", str(_RATE_HZ), "--output", str(raw_file)]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as spy:
            assert spy.stdout is not None
            spy.stdout.readline()  # "Sampling process ..." once it is attached
            profiled_s = _timed_load(server, payload, requests, case.connections)
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        summary = summarise(raw_file.read_text())
    summary.update(
        requests=requests,
        connections=case.connections,
        request_s=unprofiled_s,
        profiled_request_s=profiled_s,
    )
    return summary


def run(quick: bool, out_dir: Path) -> Path:
    executable = py_spy()
    data: dict[str, Any] = {"available": executable is not None, "cases": {}}
    for case in CASES if executable else ():
        key = f"{case.rows}x{case.classes}/{case.form}/c{case.connections}"
        requests = max(case.connections, case.requests // 4 if quick else case.requests)
        data["cases"][key] = found = profile(executable, case, requests, out_dir / "logs")
        print(f"profile {key}: {found['busy_samples']} busy, top {found['self'][:2]}", flush=True)
    return write_result(out_dir, "profile", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
