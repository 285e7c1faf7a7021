"""A plain float64 reference for the contract's metrics ("Metrics beside the loss", "Settled in 1.1").

Written from `/work/shared/api-contract.md` and `reference/semantics-binary-metrics.md` §C/§E, independently
of `service/`: one Python loop per example, `math.fsum` for every sum, ranks counted by comparison,
bins by `floor(c·n)`. Each function returns `{name: (value, statistics)}` as the contract defines them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Result = tuple[float | None, dict[str, Any]]


def softmax(row: Sequence[float]) -> list[float]:
    """Probabilities of one row of logits, in float64 (stable: shifted by the maximum)."""
    m = max(row)
    exps = [math.exp(z - m) for z in row]
    total = math.fsum(exps)
    return [e / total for e in exps]


def log_softmax(row: Sequence[float]) -> list[float]:
    m = max(row)
    log_total = math.log(math.fsum(math.exp(z - m) for z in row))
    return [(z - m) - log_total for z in row]


def first_max(row: Sequence[float]) -> int:
    """np.argmax's rule, written out: the lowest index holding the maximum."""
    best = 0
    for c, value in enumerate(row):
        if value > row[best]:
            best = c
    return best


def ratio(numerator: float, total: float) -> float | None:
    return None if total == 0 else numerator / total


def calibration(
    confidences: Sequence[float], outcomes: Sequence[float], weights: Sequence[float], bins: int
) -> Result:
    """L1 ECE over `bins` equal-width bins: slot floor(c·n) for c < 1, slot n for c == 1."""
    members: list[list[tuple[float, float, float]]] = [[] for _ in range(bins + 1)]
    for c, o, v in zip(confidences, outcomes, weights, strict=True):
        slot = bins if c == 1.0 else math.floor(c * bins)
        members[slot].append((c, o, v))
    count = [math.fsum(v for _, _, v in m) for m in members]
    confidence_sum = [math.fsum(v * c for c, _, v in m) for m in members]
    correct_sum = [math.fsum(v * o for _, o, v in m) for m in members]
    total = math.fsum(count)
    gaps = math.fsum(abs(a - c) for a, c in zip(correct_sum, confidence_sum, strict=True))
    stats = {"count": count, "confidence_sum": confidence_sum, "correct_sum": correct_sum}
    return ratio(gaps, total), stats


def softmax_metrics(
    probabilities: Sequence[Sequence[float]],
    targets: Sequence[Sequence[float]],
    weights: Sequence[float],
    *,
    nll: Sequence[float],
    scores: Sequence[Sequence[float]] | None = None,
    k: int = 5,
    bins: int = 15,
) -> dict[str, Result]:
    """Every softmax metric over rows of probabilities and target rows (one-hot for class ids), with
    example weights `v` (0 for an ignored example) and each example's plain cross-entropy `nll`.
    Predictions and ranks are read from `scores` (the logits; default the probabilities)."""
    total = math.fsum(weights)
    scores = probabilities if scores is None else scores
    correct, hits, brier, confidences = [], [], [], []
    for p, z, t, v in zip(probabilities, scores, targets, weights, strict=True):
        target = first_max(t)
        right = first_max(z) == target  # np.argmax's tie rule, on both sides
        higher = sum(1 for value in z if value > z[target])  # inclusive ties: only strictly higher
        correct.append(v if right else 0.0)
        hits.append(v if higher < k else 0.0)
        brier.append(v * math.fsum((pc - tc) ** 2 for pc, tc in zip(p, t, strict=True)))
        confidences.append(max(p))
    outcomes = [1.0 if first_max(z) == first_max(t) else 0.0 for z, t in zip(scores, targets, strict=True)]
    nll_sum = math.fsum(v * n for v, n in zip(weights, nll, strict=True))
    mean_nll = ratio(nll_sum, total)
    return {
        "accuracy": (ratio(math.fsum(correct), total), {"correct": math.fsum(correct), "total": total}),
        "top_k_accuracy": (ratio(math.fsum(hits), total), {"k": k, "hits": math.fsum(hits), "total": total}),
        "perplexity": (
            None if mean_nll is None or mean_nll > 709.78 else math.exp(mean_nll),
            {"nll_sum": nll_sum, "total": total},
        ),
        "calibration_error": calibration(confidences, outcomes, weights, bins),
        "brier_score": (ratio(math.fsum(brier), total), {"sum": math.fsum(brier), "total": total}),
    }


def sparse_metrics(
    logits: Any,
    labels: Any,
    *,
    from_logits: bool = True,
    sample_weight: Any = None,
    ignore_index: int | None = None,
    k: int = 5,
    bins: int = 15,
    epsilon: float = 1e-7,
) -> dict[str, Result]:
    """Class ids; predictions with the classes last. Probabilities are renormalised rows (the clip
    applies only to the perplexity's cross-entropy)."""
    rows = np.asarray(logits, dtype=np.float64)
    classes = rows.shape[-1]
    rows = rows.reshape(-1, classes).tolist()
    ids = np.asarray(labels).reshape(-1).tolist()
    weight = np.asarray(1.0 if sample_weight is None else sample_weight, np.float64)
    s = np.broadcast_to(weight, np.shape(labels)).reshape(-1)
    probabilities, targets, weights, nll = [], [], [], []
    for row, y, w in zip(rows, ids, s.tolist(), strict=True):
        counted = ignore_index is None or y != ignore_index
        y = y if counted else 0
        if from_logits:
            p = softmax(row)
            log_p = log_softmax(row)[y]
        else:
            p = [value / math.fsum(row) for value in row]
            log_p = math.log(min(max(p[y], epsilon), 1 - epsilon))
        probabilities.append(p)
        targets.append([1.0 if c == y else 0.0 for c in range(classes)])
        weights.append(w if counted else 0.0)
        nll.append(-log_p if counted else 0.0)
    scores = rows if from_logits else probabilities
    return softmax_metrics(probabilities, targets, weights, nll=nll, scores=scores, k=k, bins=bins)


def categorical_metrics(
    logits: Any, targets: Any, *, sample_weight: Any = None, k: int = 5, bins: int = 15
) -> dict[str, Result]:
    """Target rows; logits with the classes last."""
    t = np.asarray(targets, dtype=np.float64)
    classes = t.shape[-1]
    rows = np.asarray(logits, dtype=np.float64).reshape(-1, classes).tolist()
    t_rows = t.reshape(-1, classes).tolist()
    s = np.broadcast_to(np.asarray(1.0 if sample_weight is None else sample_weight, np.float64), len(rows))
    nll = [
        -math.fsum(tc * lp for tc, lp in zip(tr, log_softmax(row), strict=True) if tc != 0)
        for row, tr in zip(rows, t_rows, strict=True)
    ]
    probabilities = [softmax(r) for r in rows]
    return softmax_metrics(probabilities, t_rows, s.tolist(), nll=nll, scores=rows, k=k, bins=bins)


def binary_metrics(
    p: Sequence[float],
    y: Sequence[float],
    weights: Sequence[float],
    *,
    threshold: float = 0.5,
    bins: int = 15,
) -> dict[str, Result]:
    """Per label element: accuracy with `p > threshold`, ECE with confidence p and outcome y,
    Brier (p − y)² (sklearn's binary form)."""
    total = math.fsum(weights)
    correct = math.fsum(v for pi, yi, v in zip(p, y, weights, strict=True) if (pi > threshold) == (yi == 1))
    brier = math.fsum(v * (pi - yi) ** 2 for pi, yi, v in zip(p, y, weights, strict=True))
    return {
        "accuracy": (ratio(correct, total), {"correct": correct, "total": total}),
        "calibration_error": calibration(p, y, weights, bins),
        "brier_score": (ratio(brier, total), {"sum": brier, "total": total}),
    }
