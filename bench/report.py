"""Turn one run's results/*.json into the README tables and the throughput chart."""

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing global

from bench import targets
from bench.common import BENCH_DIR, read_result, stage_args

MiB = 2**20
SERIES = {("service", "json"): "tab:blue", ("service", "tensor"): "tab:green", ("peer", "json"): "tab:red"}
# From the V2 stage (one client only): the service's binary tensors and MLServer's V2 JSON.
V2_SERIES = {("service", "v2-binary"): "tab:purple", ("mlserver", "v2-json"): "tab:orange"}


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _shape(shape: list[int]) -> str:
    return "×".join(map(str, shape))


def _torch_build(build: dict[str, Any]) -> str:
    if not build:
        return "not installed"
    extras = [name for name in ("mkl", "onednn") if build[name]]
    return f"CPU kernels {build['cpu_capability']}, {', '.join(extras) or 'no MKL'}"


def machine_section(machine: dict[str, Any], run: dict[str, Any]) -> str:
    pools = "; ".join(
        f"{p['internal_api']} {p['version'] or ''} {p['architecture'] or ''} "
        f"({p['num_threads']} threads)".replace("  ", " ")
        for p in machine["thread_pools"]
    )
    pkgs = machine["packages"]
    caller_env = ", ".join(f"{k}={v}" for k, v in run["openblas_env_in_caller"].items() if v)
    rows = [
        ["CPU", f"{machine['cpu'].get('Model name', '?')}, {machine['cores_available']} cores"],
        ["caches", f"L2 {machine['cpu'].get('L2 cache')}, L3 {machine['cpu'].get('L3 cache')}"],
        ["memory", f"{machine['memory_gib']} GiB"],
        ["kernel / hypervisor", f"{machine['kernel']} / {machine['cpu'].get('Hypervisor vendor')}"],
        ["Python", machine["python"]],
        ["numpy", f"{pkgs['numpy']} ({machine['numpy_blas']}; SIMD {machine['numpy_simd']})"],
        ["torch", f"{pkgs['torch']} ({_torch_build(machine['torch_build'])})"],
        ["thread pools (threadpoolctl)", pools or "threadpoolctl not installed"],
        [
            "web stack",
            ", ".join(
                f"{p} {pkgs[p]}" for p in ("fastapi", "pydantic", "uvicorn", "uvloop", "httptools", "orjson")
            ),
        ],
        [
            "OpenBLAS overrides",
            (caller_env + " in the caller's environment, unset for the bench") if caller_env else "none",
        ],
    ]
    return table(["", ""], rows)


def targets_section(verdicts: list[targets.Verdict]) -> str:
    rows = [[v.target, v.measured, "met" if v.met else "**missed**"] for v in verdicts]
    met = sum(v.met for v in verdicts)
    return f"{met} of {len(verdicts)} met.\n\n" + table(["target", "measured", ""], rows)


def core_section(core: dict[str, Any]) -> str:
    parts = []
    for form in ("sparse", "categorical"):
        rows = []
        for shape in core["shapes"]:
            s, r = shape["seconds"], shape["ratios"]
            rows.append(
                [
                    _shape(shape["shape"]),
                    _ms(s[f"service_{form}"]),
                    _ms(s[f"torch_{form}_1t"]),
                    _ms(s[f"torch_{form}_2t"]),
                    _ms(s["numpy_exp"]),
                    _ms(s["numpy_exp_out"]),
                    f"{r[f'{form}_vs_torch_1t']:.2f}×",
                    f"{r[f'{form}_vs_torch_2t']:.2f}×",
                    f"{r[f'{form}_exp_passes']:.2f}",
                    f"{r[f'{form}_exp_out_passes']:.2f}",
                    f"{shape['accuracy'][f'{form}_losses_max_rel_err']:.1e}",
                ]
            )
        headers = [
            "shape",
            "service ms",
            "torch 1t ms",
            "torch 2t ms",
            "np.exp(x) ms",
            "np.exp(x, out) ms",
            "vs torch 1t",
            "vs torch 2t",
            "np.exp(x) passes",
            "np.exp(x, out) passes",
            "max rel err",
        ]
        parts.append(
            f"**{form}** ({'index' if form == 'sparse' else 'probability'} targets)\n\n{table(headers, rows)}"
        )
    binary = [
        [
            _shape(shape["shape"]),
            _ms(shape["seconds"]["service_binary"]),
            _ms(shape["seconds"]["torch_binary_1t"]),
            _ms(shape["seconds"]["numpy_exp_out"]),
            f"{shape['ratios']['binary_vs_torch_1t']:.2f}×",
            f"{shape['ratios']['binary_exp_out_of_torch_1t']:.2f}",
        ]
        for shape in core["shapes"]
        if "binary_exp_out_of_torch_1t" in shape["ratios"]  # runs before it lack the floor
    ]
    if binary:
        headers = ["shape", "service ms", "torch 1t ms", "np.exp(x, out) ms", "vs torch 1t", "exp / torch"]
        parts.append(
            "**binary** (multi-hot targets, from logits; torch: `binary_cross_entropy_with_logits`). "
            "`exp / torch` is one np.exp pass alone over torch's whole loss: every element's loss "
            "needs an exp, so the pure-NumPy core cannot be faster than that pass plus reading the "
            "labels and summing.\n\n" + table(headers, binary)
        )
    return "\n\n".join(parts)


def http_section(http: dict[str, Any]) -> str:
    rows = []
    for key, by_c in http["summary"].items():
        server, form, payload = key.split("/")
        row = [payload.replace("x", "×"), form, server, f"{http['body_bytes'][key] / MiB:.2f}"]
        for c in ("c1", "c8"):
            m = by_c[c]
            row += [f"{m['rps']:.1f}", f"{m['p50_us'] / 1e3:.2f}", f"{m['p99_us'] / 1e3:.2f}"]
        rows.append(row)
    headers = [
        "payload",
        "form",
        "server",
        "body MiB",
        "c=1 req/s",
        "p50 ms",
        "p99 ms",
        "c=8 req/s",
        "p50 ms",
        "p99 ms",
    ]
    ratio_rows = [
        [name.replace("/", " ").replace("x", "×").replace("_", " "), f"{value:.2f}×"]
        for name, value in http["ratios"].items()
    ]
    return (
        table(headers, rows)
        + "\n\nThroughput ratios (per round, median):\n\n"
        + table(["ratio", "value"], ratio_rows)
    )


def memory_section(memory: dict[str, Any]) -> str:
    rows = []
    for key, runs in memory["results"].items():
        for index, run in enumerate(runs, 1):
            rows.append(
                [
                    key,
                    str(index),
                    f"{run['body_bytes'] / MiB:.1f}",
                    f"{run['idle_mib']:.0f}",
                    f"{run['above_idle_bytes'] / MiB:.1f}",
                    f"{run['ratio_to_body']:.2f}×",
                ]
            )
    headers = ["server/form/payload", "request", "body MiB", "idle RSS MiB", "peak above idle MiB", "× body"]
    return table(headers, rows)


def responsiveness_section(responsiveness: dict[str, Any]) -> str:
    rows = [
        [key, str(r["polls"]), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}"]
        for key, r in responsiveness["results"].items()
    ]
    mixed = responsiveness.get("mixed")
    if mixed:
        h = mixed["healthz"]
        label = f"service/mixed: {mixed['connections']} connections, {mixed['requests']} requests"
        rows.append(
            [label, str(h["polls"]), f"{h['p50_ms']:.2f}", f"{h['p99_ms']:.2f}", f"{h['max_ms']:.2f}"]
        )
    text = table(["server/form/large payload", "polls", "p50 ms", "p99 ms", "max ms"], rows)
    if mixed:
        kinds = [
            [
                name,
                ", ".join(f"{n}× {status}" for status, n in k["answers"].items()),
                f"{k['p50_ms']:.0f}",
                f"{k['max_ms']:.0f}",
            ]
            for name, k in mixed["kinds"].items()
        ]
        text += (
            "\n\nThe mixed load's requests (time to the status line); a 413 came at most "
            f"{mixed['refused_after_max_ms']:.0f} ms after its request was over a limit:\n\n"
            + table(["request", "answers", "p50 ms", "max ms"], kinds)
        )
    return text


def floor_section(floor: dict[str, Any] | None) -> str:
    if not floor:
        return "No floor results in this run."
    rows = []
    for key, m in floor["summary"].items():
        app, form, payload = key.split("/")
        rows.append([app, payload.replace("x", "×"), form, f"{m['rps']:.1f}", f"{m['p50_us'] / 1e3:.2f}"])
    ratios = [[app, f"{value:.2f}×"] for app, value in floor["tensor_vs_service_json"].items()]
    return (
        table(["app", "payload", "form", "req/s", "p50 ms"], rows)
        + "\n\nEach app's 1024×1000 Tensor throughput over the service's 1024×1000 JSON throughput "
        "(per round, median) — the issue's 12× target is this ratio for the service:\n\n"
        + table(["app", "Tensor / service JSON"], ratios)
    )


def _listing(entries: list[list[Any]]) -> str:
    return "\n".join(f"- {share * 100:.1f} % `{frame}`" for frame, share in entries)


def profile_section(profile: dict[str, Any] | None) -> str:
    if not profile or not profile["available"]:
        return "py-spy was not available; install it (bench extra) to get this section."
    parts = []
    for case, found in profile["cases"].items():
        own_code = [entry for entry in found["inclusive"] if "(service/" in entry[0]]
        threads = ", ".join(f"{name} {share * 100:.0f} %" for name, share in found["threads"])
        gil = ", ".join(f"{name} {share * 100:.1f} %" for name, share in found["gil_wait"])
        parts.append(
            f"### {case.replace('x', '×').replace('/c', ', c=')}\n\n{found['requests']} requests "
            f"over {found['connections']} connection(s), one answer every "
            f"{found['request_s'] * 1e3:.1f} ms unprofiled, "
            f"{found['profiled_request_s'] * 1e3:.1f} ms under py-spy; {found['busy_samples']} busy "
            f"samples ({found['idle_samples']} idle ones dropped). Busy samples by thread: {threads}; "
            f"waiting for the GIL: {gil or 'none seen'}."
            f"\n\nSelf time by innermost Python line:\n\n{_listing(found['self'])}"
            f"\n\nSelf time by innermost native frame:\n\n{_listing(found['native'])}"
            f"\n\nInclusive time, the service's own functions:\n\n{_listing(own_code)}"
        )
    return "\n\n".join(parts)


def v2_section(v2: dict[str, Any] | None) -> str:
    if not v2:
        return "Not measured in this run (`python -m bench.v2`)."
    http = v2["http"]
    rows = [
        [
            key.replace("x", "×"),
            f"{http['body_bytes'][key] / 2**20:.2f}",
            f"{s['rps']:.1f}",
            f"{s['p50_us'] / 1e3:.2f}",
            f"{s['p99_us'] / 1e3:.2f}",
        ]
        for key, s in http["summary"].items()
    ]
    ratios = [[name.replace("x", "×"), f"{value:.2f}×"] for name, value in http["ratios"].items()]
    probe = http["mlserver_binary_probe"]
    memory = [
        [
            f"{r['body_bytes'] / 2**20:.2f}",
            f"{r['idle_mib']:.1f}",
            f"{r['peak_mib']:.1f}",
            f"{r['above_idle_bytes'] / 2**20:.2f}",
            f"{r['ratio_to_body']:.2f}×",
        ]
        for r in v2["memory"]["results"]
    ]
    profiles = []
    for form, found in v2["profile"].items():
        groups = ", ".join(
            f"{name} {share * 100:.0f} %" for name, share in found["self_time_share_by_group"].items()
        )
        top = "\n".join(
            f"- {own} self, {total} inclusive: `{where}`" for own, total, where in found["top_self_time"]
        )
        profiles.append(
            f"**256×10 {form}** ({found['requests']} requests, "
            f"{found['us_per_request_profiled']:.0f} µs each under cProfile). Self time by package: "
            f"{groups}.\n\nTop functions by self time:\n\n{top}"
        )
    return (
        f"`python -m bench.v2` at `{v2['revision']}`, {v2['elapsed_s']:.0f} s, {http['rounds']} rounds "
        f"alternating, c=1 (a stage of its own; load average at its end "
        f"{', '.join(f'{x:.2f}' for x in v2.get('load_average_end', []))}). MLServer {v2['mlserver']} runs "
        "`bench/peers/mlserver_model` (the same stable sparse cross-entropy in NumPy) in one process "
        "(parallel_workers 0) from `bench/.venv-mlserver`; the service runs as in §2. `v2-binary` is "
        "Triton's binary tensor extension both ways; `v2-json` is V2 JSON with flat data; `bare-read` is "
        "the floor app that only receives the same V2 binary body (§ floor).\n\n"
        + table(["server/form/payload", "body MiB", "req/s", "p50 ms", "p99 ms"], rows)
        + "\n\nRatios (throughput, per round, median):\n\n"
        + table(["ratio", "value"], ratios)
        + "\n\nMLServer's own binary tensor extension, probed once with the same body: "
        f"HTTP {probe['status']} (`{probe['body'][:80]}`), so it is compared on V2 JSON.\n\n"
        f"Memory of one {v2['memory']['payload']} request (VmHWM above idle, fresh warmed process):\n\n"
        + table(["body MiB", "idle MiB", "peak MiB", "above idle MiB", "× body"], memory)
        + "\n\nWhere a small request's CPU goes (cProfile through the ASGI app in-process, access log "
        "to /dev/null; cProfile inflates Python calls, so read the shares, not the times):\n\n"
        + "\n\n".join(profiles)
    )


def chart(http: dict[str, Any], v2: dict[str, Any] | None, path: Path, title: str) -> None:
    fig = Figure(figsize=(11, 4.5))
    ax_rps, ax_elems = fig.subplots(1, 2)
    lines = [
        (http["summary"], server, form, color, c, style)
        for (server, form), color in SERIES.items()
        for c, style in (("c1", "-o"), ("c8", "--s"))
    ]
    if v2:
        # The V2 stage's summary has one client's figures per key: shaped like http's under "c1".
        summary = {key: {"c1": value} for key, value in v2["http"]["summary"].items()}
        lines += [(summary, server, form, color, "c1", "-^") for (server, form), color in V2_SERIES.items()]
    for summary, server, form, color, c, style in lines:
        keys = [k for k in summary if k.startswith(f"{server}/{form}/")]
        sizes = [int(r) * int(n) for r, n in (k.split("/")[2].split("x") for k in keys)]
        rps = [summary[k][c]["rps"] for k in keys]
        order = sorted(range(len(sizes)), key=sizes.__getitem__)
        xs, ys = [sizes[i] for i in order], [rps[i] for i in order]
        label = f"{server} {form} {c.replace('c', 'c=')}"
        ax_rps.plot(xs, ys, style, color=color, label=label)
        logits_per_s = [x * y / 1e6 for x, y in zip(xs, ys, strict=True)]
        ax_elems.plot(xs, logits_per_s, style, color=color, label=label)
    for ax, ylabel in ((ax_rps, "requests / s"), (ax_elems, "million logits / s")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("logits per request (256×10, 1024×1000, 64×32000)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_rps.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def outputs(quick: bool, out_dir: Path) -> tuple[Path, Path]:
    """README and chart paths: the committed page for full runs, beside the results for quick."""
    folder = out_dir if quick else BENCH_DIR
    return folder / "README.md", folder / "throughput.png"


def write(out_dir: Path, readme: Path, chart_path: Path) -> None:
    run = read_result(out_dir, "run")
    machine = read_result(out_dir, "machine")
    core = read_result(out_dir, "core")
    http = read_result(out_dir, "http")
    memory = read_result(out_dir, "memory")
    responsiveness = read_result(out_dir, "responsiveness")
    floor = read_result(out_dir, "floor")
    v2 = read_result(out_dir, "v2")
    floor_rounds = floor["rounds"] if floor else 0
    verdicts = (
        targets.core_verdicts(core)
        + targets.http_verdicts(http)
        + targets.memory_verdicts(memory)
        + targets.responsiveness_verdicts(responsiveness)
        + (targets.v2_verdicts(v2) if v2 else [])
    )
    chart(http, v2, chart_path, f"loss-service vs a typical FastAPI peer and MLServer — {run['started_utc']}")
    mode = " (**quick mode**: too short for conclusions)" if run["quick"] else ""
    stages = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run["stage_s"].items())
    revision = f"`{run['revision_start']}`"
    if run["revision_end"] != run["revision_start"]:
        revision += f" → `{run['revision_end']}` (**the tree changed during the run**)"
    results_rel = out_dir.relative_to(readme.parent) if out_dir.is_relative_to(readme.parent) else out_dir
    text = f"""# Benchmarks

Reproduce: `python -m bench.run_all` from the repository root, in an environment with
`pip install -e '.[dev,bench]'` (under 10 minutes on 2 cores; `--quick` is a one-minute check
of the harness that writes to `bench/results/quick/`; the profile needs py-spy and ptrace rights,
e.g. root). Raw numbers:
`{results_rel}/*.json`; this page and `{chart_path.name}` are generated by `bench/report.py`.

Run{mode} of {revision}: started {run["started_utc"]}, took {run["elapsed_s"] / 60:.1f} min; load average
{machine["load_average"][0]:.2f} at the start and {run["load_average_end"][0]:.2f} at the end
(above ~1 means something else was using the 2 cores and the numbers are noisy). Stages: {stages}.

## Machine

{machine_section(machine, run)}

## Targets

{targets_section(verdicts)}

## 1. Core, in one process

Same float32 arrays for every contender; the service computes `reduction="mean"` plus per-example
losses, torch `F.cross_entropy(..., reduction="none").mean()` with autograd off, under
`torch.set_num_threads(1)` and `(2)`. NumPy's BLAS (used by the core for some row sums) is limited
to one thread (threadpoolctl), so everything but "torch 2t" runs on one core. Times are medians
over {core["rounds"]} interleaved rounds; ratios (service speed-up, and service time in np.exp
passes) are per round, then the median. The error column is the largest relative error of the
per-example losses against a float64 reference written from the formula (`bench/reference.py`).

`np.exp(x)` allocates its result on every call. glibc returns blocks that large to the OS when
they are freed, so each call faults fresh pages in, and on this VM that costs more than the
arithmetic once an array has more than a few million elements (see the 8×512×32000 row). The
`np.exp(x, out)` columns time the same pass into a reused buffer: the compute-only bound. The
targets are checked against `np.exp(x)`, as the issue states them.

{core_section(core)}

## 2. HTTP

![throughput against payload size]({chart_path.name})

The service (`uvicorn service.main:app`) and the peer (`bench/peers/typical_fastapi.py`: Pydantic
`logits: list[list[float]]`, FastAPI's default parsing, NumPy math) each run under uvicorn with
uvloop and httptools, one worker, no access log, on their own 127.0.0.1 port, and answer
`POST /v1/cross-entropy/sparse`. The JSON bodies are what `json.dumps(tensor.tolist())` gives for
float32 logits; the Tensor form is base64 float32 logits and int64 labels. Every body is checked
once against the float64 loss. `bench/loadgen.py` keeps c keep-alive connections busy until a
fixed number of answers ({http["rounds"]} rounds, service and peer alternating; latency = send
to last byte, uncorrected, with the client's own ~tens of µs included). With one worker, c=8
latencies are mostly queueing: about 8 service times.

{http_section(http)}

## 3. Memory

Peak RSS (kernel `VmHWM`, reset just before the request) above the idle RSS of a fresh server
warmed by one small request, while it serves one 64×32000 request; the second request shows the
steady state.

{memory_section(memory)}

## 4. Responsiveness

`GET /healthz` polled over one keep-alive connection while two 64×32000 requests are in flight,
repeated {responsiveness["bursts"]} times and pooled; then while 16 connections send a mix of 64×32000
Tensor requests and requests over each limit (a declared body over the body limit, a chunked body
streaming past it, a gzip bomb, a Tensor claiming too many elements).

{responsiveness_section(responsiveness)}

## 5. The floor: what uvicorn allows at all

Bare ASGI apps (`bench/investigations/floor_apps.py`) under the same uvicorn options, side by side with the
service, c=1, {floor_rounds} rounds alternating: `bare-read` only receives the body; `bare-body` copies it
into one buffer with the service's `read_body`; `bare-hop` adds a no-op thread hop; `bare-inline` and
`bare-thread` add the service's own evaluation (`service/api/evaluation.py`), on the event loop or on a
worker thread. The service evaluates bodies up to 64 KiB inline and larger ones on a worker thread, so
its peers are `bare-inline` for 256×10 and `bare-thread` for the Tensor body; what those lack against it
is FastAPI, the two middlewares and the access log.

{floor_section(floor)}

## 6. Open Inference Protocol (V2) beside MLServer

{v2_section(v2)}

## Where the time goes (py-spy)

{profile_section(read_result(out_dir, "profile"))}
"""
    readme.write_text(text)


def main(argv: list[str] | None = None) -> None:
    """Regenerate the page from existing results without re-running anything."""
    quick, out_dir = stage_args(__doc__ or "", argv)
    write(out_dir, *outputs(quick, out_dir))


if __name__ == "__main__":
    main()
