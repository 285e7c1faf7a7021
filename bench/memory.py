"""Memory bench: peak RSS of a server above its idle RSS while it serves one 64x32000 request.

Each (server, form) gets a fresh process, warmed by one small request of the same form so lazy
imports are not counted. The kernel's peak-RSS mark (VmHWM) is reset just before the large request
(`/proc/<pid>/clear_refs`), so the peak is exact rather than sampled.
"""

import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.common import stage_args, write_result
from bench.payloads import FORMS, HttpPayload, http_payload

LARGE = (64, 32000)
WARM = (256, 10)
_SETTLE_S = 0.5  # lets the warm-up's buffers be freed before idle is read


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak(pid: int) -> None:
    # "5" resets VmHWM to the current RSS (Linux >= 4.0); we own the process.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_above_idle(server: servers.Server, payload: HttpPayload) -> dict[str, float]:
    time.sleep(_SETTLE_S)
    idle = _status_kib(server.pid, "VmRSS")
    _reset_peak(server.pid)
    servers.post_checked(server, payload)
    peak = _status_kib(server.pid, "VmHWM")
    above = (peak - idle) * 1024
    return {
        "idle_mib": idle / 1024,
        "peak_mib": peak / 1024,
        "above_idle_bytes": above,
        "body_bytes": len(payload.body),
        "ratio_to_body": above / len(payload.body),
    }


def run(quick: bool, out_dir: Path) -> Path:
    # The second request shows the steady state, with the allocator's pools already grown.
    requests = 1 if quick else 2
    results: dict[str, list[dict[str, float]]] = {}
    for form in FORMS:
        payload = http_payload(*LARGE, form)
        warm = http_payload(*WARM, form)
        for name in ("service", "peer") if form == "json" else ("service",):
            with servers.running(name, out_dir / "logs") as server:
                servers.post_checked(server, warm)
                key = f"{name}/{form}/{payload.name}"
                results[key] = [peak_above_idle(server, payload) for _ in range(requests)]
                print(f"memory {key}: {results[key][0]['ratio_to_body']:.2f}x body", flush=True)
    data: dict[str, Any] = {"requests_per_process": requests, "results": results}
    return write_result(out_dir, "memory", data)


def main(argv: list[str] | None = None) -> None:
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
