"""The issue's targets, checked against one run's results (ratios all from that same run)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool


def _at_least(target: str, value: float, bound: float, unit: str = "×") -> Verdict:
    return Verdict(target, f"{value:.2f}{unit}", value >= bound)


def _at_most(target: str, value: float, bound: float, unit: str = "×") -> Verdict:
    return Verdict(target, f"{value:.2f}{unit}", value <= bound)


# The shapes the issues set binary and metric targets on.
BINARY_SHAPES = ((8192, 1000), (65536, 10))
METRICS_SHAPE = (8192, 1000)


def core_verdicts(core: dict[str, Any]) -> list[Verdict]:
    verdicts = []
    for shape in core["shapes"]:
        name = "×".join(map(str, shape["shape"]))
        ratios = shape["ratios"]
        for form in ("sparse", "categorical"):
            verdicts.append(
                _at_least(f"core {name} {form}: ≥ 1.0× torch (1 thread)", ratios[f"{form}_vs_torch_1t"], 1.0)
            )
            verdicts.append(
                _at_most(f"core {name} {form}: ≤ 1.6 np.exp passes", ratios[f"{form}_exp_passes"], 1.6)
            )
        if tuple(shape["shape"]) in BINARY_SHAPES:
            verdicts.append(
                _at_least(f"core {name} binary: ≥ 1.0× torch (1 thread)", ratios["binary_vs_torch_1t"], 1.0)
            )
        if tuple(shape["shape"]) == METRICS_SHAPE:
            verdicts.append(
                _at_most(
                    f"core {name} sparse, every metric: ≤ 1.5× the loss alone",
                    ratios["sparse_all_metrics_vs_loss"],
                    1.5,
                )
            )
        worst = max(shape["accuracy"].values())
        verdicts.append(
            Verdict(f"core {name}: float32 tolerance of float64", f"{worst:.1e} rel", shape["accuracy_ok"])
        )
    return verdicts


def http_verdicts(http: dict[str, Any]) -> list[Verdict]:
    ratios = http["ratios"]
    verdicts = []
    for c in ("c1", "c8"):
        verdicts.append(
            _at_least(f"JSON 1024×1000 {c}: ≥ 3.5× peer", ratios[f"json_vs_peer/1024x1000/{c}"], 3.5)
        )
        verdicts.append(_at_least(f"JSON 256×10 {c}: ≥ 2.8× peer", ratios[f"json_vs_peer/256x10/{c}"], 2.8))
        verdicts.append(
            _at_least(f"Tensor 1024×1000 {c}: ≥ 12× own JSON", ratios[f"tensor_vs_json/1024x1000/{c}"], 12.0)
        )
    p50_ms = http["summary"]["service/json/256x10"]["c1"]["p50_us"] / 1e3
    verdicts.append(_at_most("JSON 256×10 c1: p50 < 0.5 ms", p50_ms, 0.5, " ms"))
    return verdicts


def memory_verdicts(memory: dict[str, Any]) -> list[Verdict]:
    bounds = {"tensor": 4.0, "json": 12.0}
    verdicts = []
    for form, bound in bounds.items():
        runs = memory["results"][f"service/{form}/64x32000"]
        worst = max(r["ratio_to_body"] for r in runs)
        verdicts.append(_at_most(f"memory {form} 64×32000: ≤ {bound:g}× body", worst, bound))
    return verdicts


def responsiveness_verdicts(responsiveness: dict[str, Any]) -> list[Verdict]:
    return [
        _at_most(
            f"/healthz p99 during 2 large {key.split('/')[1]} requests: < 50 ms",
            result["p99_ms"],
            50.0,
            " ms",
        )
        for key, result in responsiveness["results"].items()
        if key.startswith("service/")
    ] + _mixed_verdicts(responsiveness.get("mixed"))


def _mixed_verdicts(mixed: dict[str, Any] | None) -> list[Verdict]:
    if not mixed:
        return []
    return [
        _at_most("/healthz p99 during the mixed load: < 50 ms", mixed["healthz"]["p99_ms"], 50.0, " ms"),
        # The contract: over a limit → 413 within 0.5 s, whatever the body's size.
        _at_most(
            "413 after a request is over a limit: ≤ 500 ms", mixed["refused_after_max_ms"], 500.0, " ms"
        ),
    ]


def v2_verdicts(v2: dict[str, Any]) -> list[Verdict]:
    ratios = v2["http"]["ratios"]
    verdicts = [
        _at_least(
            "V2 binary 1024×1000 c1: ≥ 25× MLServer V2 JSON",
            ratios["v2-binary vs MLServer v2-json 1024x1000"],
            25.0,
        )
    ]
    for form in ("/v1 json", "v2-binary", "v2-json"):
        verdicts.append(
            _at_least(
                f"{form} 256×10 c1: ≥ 2× MLServer V2 JSON", ratios[f"{form} vs MLServer v2-json 256x10"], 2.0
            )
        )
    if "bare-read vs v2-binary 1024x1000" in ratios:  # runs before it had no bare app
        verdicts.append(
            _at_most(
                "V2 binary 1024×1000 c1: within 1.2× of the bare app that only receives the body",
                ratios["bare-read vs v2-binary 1024x1000"],
                1.2,
            )
        )
    worst = max(r["ratio_to_body"] for r in v2["memory"]["results"])
    verdicts.append(_at_most("memory V2 binary 64×32000: ≤ 1.5× body", worst, 1.5))
    return verdicts
