"""Core bench, in one process: the service's NumPy losses against torch (cross_entropy and
binary_cross_entropy_with_logits) and np.exp.

Every contender sees the same float32 arrays. Rounds interleave the contenders so drift on a shared
machine hits them alike; each ratio is taken within a round and the median over rounds reported.
"""

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from bench import payloads, reference
from bench.common import stage_args, write_result
from bench.stats import median
from service.losses import binary_cross_entropy, categorical_cross_entropy, sparse_cross_entropy
from service.losses.metrics import SOFTMAX_METRICS
from service.memory import retain_freed_memory

SHAPES: tuple[tuple[int, ...], ...] = (
    (65536, 10),
    (8192, 1000),
    (512, 32000),
    (64, 128000),
    (8, 512, 32000),
)
# Per-example losses of float32 data: tighter than this is not float32 any more (~80 ulp).
FLOAT32_RTOL = 1e-5


@dataclass(frozen=True)
class Contender:
    name: str
    call: Callable[[], object]
    torch_threads: int | None = None


@dataclass(frozen=True)
class Case:
    logits: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    multi_hot: np.ndarray


def make_case(shape: tuple[int, ...]) -> Case:
    return Case(
        logits=payloads.make_logits(shape),
        labels=payloads.make_labels(shape[:-1], shape[-1]),
        targets=payloads.make_targets(shape),
        multi_hot=payloads.make_multi_hot(shape),
    )


def contenders(case: Case) -> list[Contender]:
    x, y, t, h = case.logits, case.labels, case.targets, case.multi_hot
    classes = x.shape[-1]
    exp_out = np.empty_like(x)
    # torch wants the class axis at 1; flattening the leading axes is the usual (and free) view.
    xt = torch.from_numpy(x).view(-1, classes)
    yt = torch.from_numpy(y).view(-1)
    tt = torch.from_numpy(t).view(-1, classes)
    ht = torch.from_numpy(h).view(-1, classes)
    found = [
        Contender("service_sparse", lambda: sparse_cross_entropy(x, y, reduction="mean")),
        # The same loss asking for every metric: their cost on top of the loss (target: at most 1.5x).
        Contender(
            "service_sparse_all_metrics",
            lambda: sparse_cross_entropy(x, y, reduction="mean", metrics=SOFTMAX_METRICS),
        ),
        Contender("service_categorical", lambda: categorical_cross_entropy(x, t, reduction="mean")),
        # Multi-label: the mean over examples of each row's mean equals torch's mean over all elements.
        Contender("service_binary", lambda: binary_cross_entropy(x, h, reduction="mean")),
        Contender("torch_binary_1t", lambda: F.binary_cross_entropy_with_logits(xt, ht, reduction="mean"), 1),
        Contender("numpy_exp", lambda: np.exp(x)),
        # The same pass into a reused buffer: compute alone, without the fresh pages np.exp(x)
        # faults in on every call (costly on this VM: glibc returns large blocks to the OS).
        Contender("numpy_exp_out", lambda: np.exp(x, out=exp_out)),
    ]
    for threads in (1, 2):
        found.append(
            Contender(
                f"torch_sparse_{threads}t",
                lambda: F.cross_entropy(xt, yt, reduction="none").mean(),
                threads,
            )
        )
        found.append(
            Contender(
                f"torch_categorical_{threads}t",
                lambda: F.cross_entropy(xt, tt, reduction="none").mean(),
                threads,
            )
        )
    return found


def seconds_per_call(contender: Contender, reps: int) -> float:
    if contender.torch_threads is not None:
        torch.set_num_threads(contender.torch_threads)
    # NumPy's own BLAS calls (the core's row sums) get one thread, like torch's 1-thread runs:
    # every contender but torch's 2-thread ones then computes on one core.
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        for _ in range(reps):
            contender.call()
        return (time.perf_counter() - start) / reps


def accuracy(case: Case) -> dict[str, float]:
    """Largest relative error of per-example losses and of the mean, against float64."""
    errors: dict[str, float] = {}
    checks = (
        (
            "sparse",
            sparse_cross_entropy(case.logits, case.labels, reduction="mean"),
            reference.sparse_losses(case.logits, case.labels),
        ),
        (
            "categorical",
            categorical_cross_entropy(case.logits, case.targets, reduction="mean"),
            reference.categorical_losses(case.logits, case.targets),
        ),
        (
            "binary",
            binary_cross_entropy(case.logits, case.multi_hot, reduction="mean"),
            reference.binary_losses(case.logits, case.multi_hot),
        ),
    )
    for form, result, expected in checks:
        got = np.asarray(result.losses, dtype=np.float64)
        errors[f"{form}_losses_max_rel_err"] = float(
            np.max(np.abs(got - expected) / np.maximum(np.abs(expected), 1.0))
        )
        expected_loss = float(expected.mean())
        errors[f"{form}_loss_rel_err"] = abs(float(result.loss) - expected_loss) / expected_loss
    return errors


# (numerator, denominator) per ratio: each is how many times faster the service is, or for the
# exp bound how many np.exp passes one service call costs.
RATIOS = {
    "sparse_vs_torch_1t": ("torch_sparse_1t", "service_sparse"),
    "sparse_vs_torch_2t": ("torch_sparse_2t", "service_sparse"),
    "categorical_vs_torch_1t": ("torch_categorical_1t", "service_categorical"),
    "categorical_vs_torch_2t": ("torch_categorical_2t", "service_categorical"),
    "binary_vs_torch_1t": ("torch_binary_1t", "service_binary"),
    # The pure-NumPy floor: one np.exp pass alone (every element's loss needs an exp) over torch's
    # whole fused loss; near 1, no NumPy sequence of passes can match torch.
    "binary_exp_out_of_torch_1t": ("numpy_exp_out", "torch_binary_1t"),
    "sparse_all_metrics_vs_loss": ("service_sparse_all_metrics", "service_sparse"),
    "sparse_exp_passes": ("service_sparse", "numpy_exp"),
    "categorical_exp_passes": ("service_categorical", "numpy_exp"),
    "sparse_exp_out_passes": ("service_sparse", "numpy_exp_out"),
    "categorical_exp_out_passes": ("service_categorical", "numpy_exp_out"),
}


def bench_shape(shape: tuple[int, ...], rounds: int, batch_s: float) -> dict[str, Any]:
    case = make_case(shape)
    errors = accuracy(case)
    runners = contenders(case)
    reps = {}
    for contender in runners:  # a first call warms caches and pages, a second sizes the batches
        seconds_per_call(contender, 1)
        reps[contender.name] = max(1, math.ceil(batch_s / seconds_per_call(contender, 1)))
    per_round: dict[str, list[float]] = {c.name: [] for c in runners}
    for round_index in range(rounds):
        # Alternate the order so neither end of a round is always the same contender.
        ordered = runners if round_index % 2 == 0 else runners[::-1]
        for contender in ordered:
            per_round[contender.name].append(seconds_per_call(contender, reps[contender.name]))
    ratios = {
        name: median([a / b for a, b in zip(per_round[num], per_round[den], strict=True)])
        for name, (num, den) in RATIOS.items()
    }
    return {
        "shape": list(shape),
        "elements": int(np.prod(shape)),
        "reps": reps,
        "seconds": {name: median(times) for name, times in per_round.items()},
        "rounds": per_round,
        "ratios": ratios,
        "accuracy": errors,
        "accuracy_ok": all(err <= FLOAT32_RTOL for err in errors.values()),
    }


def run(quick: bool, out_dir: Path) -> Path:
    rounds, batch_s = (2, 0.02) if quick else (9, 0.1)
    torch.set_grad_enabled(False)
    shapes = []
    for shape in SHAPES:
        shapes.append(bench_shape(shape, rounds, batch_s))
        print(f"core {shape}: {shapes[-1]['ratios']}", flush=True)
    return write_result(out_dir, "core", {"rounds": rounds, "batch_s": batch_s, "shapes": shapes})


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A side run, not part of run_all: every contender with the glibc tuning the service applies at
    # start-up (service/memory.py). It spares torch's large outputs their page faults, so it shows how
    # the core fares against torch in a tuned process too.
    if "--tuned-malloc" in argv:
        argv.remove("--tuned-malloc")
        retain_freed_memory()
    run(*stage_args(__doc__ or "", argv))


if __name__ == "__main__":
    main()
