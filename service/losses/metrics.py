"""Evaluation metrics beside the loss: accuracy, top-k accuracy, perplexity, calibration error, Brier score.

Each metric is a value plus its sufficient statistics — weighted sums, so results of any number of batches
combine exactly by adding them (:func:`combine_statistics`) — and :func:`metric_value` is the one place
a value is made from statistics: the core, the service and the evaluator all call it.

Example weights are ``v = sample_weight × [counted]`` only: class weights, smoothing and focal terms shape
the loss, not the question "was the prediction right". Probabilities are read before any clip.

The families compute per-row quantities in their own pass over the data (:class:`SoftmaxRows`, from the
log-sum-exp kernel's extras) and :func:`softmax_metrics` / :func:`binary_metrics` turn them into results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import Issue, LossInputError, LossWarning
from .result import MetricResult
from .rows import RowExtras, RowTerms

MetricStatistics = Mapping[str, float | np.ndarray]

SOFTMAX_METRICS: tuple[str, ...] = (
    "accuracy",
    "top_k_accuracy",
    "perplexity",
    "calibration_error",
    "brier_score",
)
BINARY_METRICS: tuple[str, ...] = ("accuracy", "calibration_error", "brier_score")
# Statistics that are parameters, not sums: requests combine only when they agree on them.
PARAMETERS: dict[str, tuple[str, ...]] = {"top_k_accuracy": ("k",)}
# Binary metrics that compare a label with a prediction, so need labels of exactly 0 or 1.
HARD_LABEL_METRICS: tuple[str, ...] = ("accuracy", "calibration_error")
DEFAULT_TOP_K = 5
DEFAULT_BINS = 15
DEFAULT_THRESHOLD = 0.5
# exp(x) overflows float64 above this.
MAX_EXP = math.log(np.finfo(np.float64).max)


# --- statistics → value (the one definition) -------------------------------------------------------------


def metric_value(name: str, statistics: MetricStatistics) -> float | None:
    """The metric's value from its statistics; ``None`` where the total is 0 (or perplexity overflows).

    ====================  ==============================================================
    ``accuracy``          ``correct / total``
    ``top_k_accuracy``    ``hits / total``
    ``perplexity``        ``exp(nll_sum / total)``
    ``calibration_error`` ``Σ_b |correct_sum_b − confidence_sum_b| / Σ_b count_b`` (L1 ECE)
    ``brier_score``       ``sum / total``
    ====================  ==============================================================
    """
    if null_reason(name, statistics) is not None:
        return None
    if name == "calibration_error":
        gaps = np.abs(np.asarray(statistics["correct_sum"]) - np.asarray(statistics["confidence_sum"]))
        return math.fsum(gaps.tolist()) / _total(name, statistics)
    ratio = float(statistics[_NUMERATORS[name]]) / _total(name, statistics)
    return math.exp(ratio) if name == "perplexity" else ratio


_NUMERATORS = {
    "accuracy": "correct",
    "top_k_accuracy": "hits",
    "perplexity": "nll_sum",
    "brier_score": "sum",
}


def _total(name: str, statistics: MetricStatistics) -> float:
    if name == "calibration_error":
        return math.fsum(np.asarray(statistics["count"]).tolist())
    return float(statistics["total"])


def null_reason(name: str, statistics: MetricStatistics) -> str | None:
    """Why the value is null: ``zero_denominator``, ``perplexity_overflow``, or ``None`` (it is not)."""
    total = _total(name, statistics)
    if total == 0:
        return "zero_denominator"
    if name == "perplexity" and not float(statistics["nll_sum"]) / total <= MAX_EXP:
        return "perplexity_overflow"
    return None


def null_message(name: str, reason: str) -> str:
    if reason == "perplexity_overflow":
        return (
            "perplexity overflows float64 (mean NLL above 709.78), so its value is null; nll_sum and "
            "total are still exact"
        )
    return f"{name}: no example counts (total 0), so its value is null (not NaN, not 0)"


def result_of(name: str, statistics: MetricStatistics, warnings: list[LossWarning]) -> MetricResult:
    """The metric's result, with a warning when its value is null."""
    reason = null_reason(name, statistics)
    if reason is not None:
        warnings.append(LossWarning(reason, null_message(name, reason), field="metrics"))
    return MetricResult(metric_value(name, statistics), dict(statistics))


def combine_statistics(name: str, parts: Sequence[MetricStatistics]) -> dict[str, float | np.ndarray]:
    """Statistics of many batches as one: sums with ``math.fsum`` (arrays slot by slot), so the total
    is correctly rounded whatever the batching; parameters (``k``) must agree."""
    combined: dict[str, float | np.ndarray] = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        if key in PARAMETERS.get(name, ()):
            if len({float(v) for v in values}) > 1:
                raise ValueError(f"{name}: the batches disagree on {key}")
            combined[key] = values[0]
        elif np.ndim(values[0]) == 1:
            columns = np.asarray(values, dtype=np.float64).T
            combined[key] = np.array([math.fsum(column) for column in columns.tolist()])
        else:
            combined[key] = math.fsum(float(v) for v in values)
    return combined


def metric_json(value: float | None, statistics: MetricStatistics) -> dict[str, object]:
    """``{"value", ...statistics}`` as JSON-ready Python numbers; array-valued statistics (one entry per
    bin) are zipped into ``bins``, one object per bin."""
    out: dict[str, object] = {"value": value}
    per_bin = {key: np.asarray(v).tolist() for key, v in statistics.items() if np.ndim(v) == 1}
    out.update((key, v) for key, v in statistics.items() if key not in per_bin)
    if per_bin:
        out["bins"] = [dict(zip(per_bin, slot, strict=True)) for slot in zip(*per_bin.values(), strict=True)]
    return out


def statistics_from_json(payload: Mapping[str, object]) -> dict[str, float | np.ndarray]:
    """The inverse of :func:`metric_json`: the statistics, per-bin ones as arrays again."""
    statistics: dict[str, float | np.ndarray] = {
        key: value  # type: ignore[misc]
        for key, value in payload.items()
        if key not in ("value", "bins")
    }
    bins = payload.get("bins")
    if isinstance(bins, list) and bins:
        for key in bins[0]:
            statistics[key] = np.array([slot[key] for slot in bins], dtype=np.float64)
    return statistics


# --- options ---------------------------------------------------------------------------------------------


def check_metric_names(names: Sequence[str], offered: Sequence[str]) -> None:
    """Every name one the endpoint offers, none twice; the error points at the name (``metrics/<i>``)."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name not in offered or name in seen:
            why = "is listed twice" if name in seen else "is not a metric this endpoint computes"
            message = f"metric {str(name)[:40]!r} {why}; the metrics here are {', '.join(offered)}"
            issue = Issue("invalid_field", "metrics", message, index=(i,), received=str(name)[:40])
            raise LossInputError("invalid_field", message, issues=[issue])
        seen.add(name)


def calibration_slots(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Slot ``⌊c·n⌋`` for ``c < 1`` (a value on an edge goes up), in float64; ``c = 1`` gets slot ``n``.

    A ``c`` just below 1 whose product rounds up to ``n`` stays in the last bin: slot ``n`` is for 1 only.
    """
    c = np.asarray(confidence, dtype=np.float64)
    slots = np.minimum(np.floor(c * bins), bins - 1).astype(np.intp)
    slots[c >= 1.0] = bins
    return slots


def _calibration_statistics(
    confidence: np.ndarray, correct: np.ndarray, v: np.ndarray, bins: int
) -> dict[str, float | np.ndarray]:
    slots = calibration_slots(confidence, bins)
    return {
        "count": np.bincount(slots, weights=v, minlength=bins + 1).astype(np.float64),
        "confidence_sum": np.bincount(slots, weights=v * confidence, minlength=bins + 1),
        "correct_sum": np.bincount(slots, weights=v * correct, minlength=bins + 1),
    }


def _weighted(v: np.ndarray, values: np.ndarray) -> float:
    """``Σ v·x`` in float64, taking ``0·x`` as 0 even where ``x`` is not finite (an uncounted row)."""
    return float(np.where(v != 0, v * values, 0.0).sum())


# --- softmax ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftmaxRows:
    """Per-row quantities (flat) from which every softmax metric follows.

    ``predicted``: first index of the row maximum; ``target``: the label (or the target row's first
    maximum); ``confidence``: the top probability (float64); ``nll``: the plain cross-entropy ``−log
    p_target`` (float64); ``above``: how many classes score strictly higher than the target (top-k only);
    ``brier``: ``Σ_c (p_c − t_c)²`` (Brier only). Rows that do not count may hold anything."""

    predicted: np.ndarray
    target: np.ndarray
    confidence: np.ndarray
    nll: np.ndarray | None = None
    above: np.ndarray | None = None
    brier: np.ndarray | None = None


def kernel_extras(names: Sequence[str], target: np.ndarray, targets: np.ndarray | None = None) -> RowExtras:
    """What the log-sum-exp kernel must also take for ``names`` (class ids ``target``; a categorical
    target matrix ``targets`` for the Brier score)."""
    brier = "brier_score" in names
    return RowExtras(
        rank_of=target if "top_k_accuracy" in names else None,
        squares=brier,
        exp_weights=(targets,) if brier and targets is not None else (),
    )


def logit_rows(
    names: Sequence[str],
    terms: RowTerms,
    target: np.ndarray,
    nll: np.ndarray | None,
    targets: np.ndarray | None = None,
) -> SoftmaxRows:
    """Rows from the kernel's terms, shifted by each row's maximum ``m``: ``s = Σ_c exp(z_c − m)``, the
    top probability is ``1/s``, ``p_target = exp(−nll)``; ``targets`` is the categorical target matrix
    (``None``: one-hot at ``target``)."""
    a = terms.anchor
    s = np.exp(terms.log_s)
    brier = None
    if "brier_score" in names:
        # Σ_c p_c² = (1 + Σ_{c≠a} e_c²)/s²; the anchor's own term is kept apart so that a confident, right
        # prediction's tiny score is not lost to cancellation: (1 − 1/s)² = (rest/s)², rest = s − 1.
        square_sum = (1.0 + terms.square_rest) / s**2
        if targets is None:
            assert nll is not None  # the sparse loss always has it
            p_y = np.exp(-nll)
            rest = np.expm1(terms.log_s)
            brier = np.where(a == target, (rest**2 + terms.square_rest) / s**2, 1.0 - 2.0 * p_y + square_sum)
        else:
            rows = np.arange(len(a))
            t64 = targets.astype(np.float64)
            t_dot_p = (t64[rows, a] + terms.exp_dots[0]) / s
            t_square = np.einsum("ij,ij->i", t64, t64)
            brier = np.maximum(square_sum - 2.0 * t_dot_p + t_square, 0.0)
    return SoftmaxRows(
        predicted=a,
        target=target,
        confidence=np.exp(-terms.log_s),
        nll=nll,
        above=terms.above if "top_k_accuracy" in names else None,
        brier=brier,
    )


def probability_rows(
    names: Sequence[str],
    p: np.ndarray,
    target: np.ndarray,
    nll: np.ndarray,
    targets: np.ndarray | None = None,
) -> SoftmaxRows:
    """Rows from renormalised probabilities ``p`` (float64, before the clip)."""
    rows = np.arange(len(target))
    predicted = p.argmax(axis=1)
    p_y = p[rows, target]
    above = np.count_nonzero(p > p_y[:, None], axis=1) if "top_k_accuracy" in names else None
    brier = None
    if "brier_score" in names:
        if targets is None:
            brier = np.maximum(np.einsum("ij,ij->i", p, p) - 2.0 * p_y + 1.0, 0.0)
        else:
            diff = p - targets
            brier = np.einsum("ij,ij->i", diff, diff)
    return SoftmaxRows(predicted, target, p[rows, predicted], nll, above, brier)


def softmax_metrics(
    names: Sequence[str],
    rows: SoftmaxRows,
    v: np.ndarray,
    *,
    top_k: int = DEFAULT_TOP_K,
    bins: int = DEFAULT_BINS,
    warnings: list[LossWarning],
) -> dict[str, MetricResult]:
    """The softmax metrics ``names`` with example weights ``v`` (``sample_weight × [counted]``, float64).

    Accuracy: ``predicted == target`` (ties go to the lower index, ``np.argmax``). Top-k: a hit iff no
    more than ``k − 1`` classes score strictly higher than the target — every class tied with the k-th
    largest score hits (Keras / TF ``in_top_k``), so top-1 can exceed accuracy on ties.
    """
    total = float(v.sum())
    correct = rows.predicted == rows.target
    statistics: dict[str, dict[str, float | np.ndarray]] = {}
    for name in names:
        if name == "accuracy":
            statistics[name] = {"correct": _weighted(v, correct), "total": total}
        elif name == "top_k_accuracy":
            assert rows.above is not None
            statistics[name] = {"k": top_k, "hits": _weighted(v, rows.above < top_k), "total": total}
        elif name == "perplexity":
            assert rows.nll is not None
            statistics[name] = {"nll_sum": _weighted(v, rows.nll), "total": total}
        elif name == "calibration_error":
            statistics[name] = _calibration_statistics(
                np.where(v != 0, rows.confidence, 0.0), correct.astype(np.float64), v, bins
            )
        elif name == "brier_score":
            assert rows.brier is not None
            statistics[name] = {"sum": _weighted(v, rows.brier), "total": total}
    return {name: result_of(name, stats, warnings) for name, stats in statistics.items()}


# --- binary ----------------------------------------------------------------------------------------------


def binary_metrics(
    names: Sequence[str],
    p: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | float = 1.0,
    *,
    mask: np.ndarray | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    bins: int = DEFAULT_BINS,
    warnings: list[LossWarning],
    index_of: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None,
) -> dict[str, MetricResult]:
    """The binary metrics ``names``, per label element: ``p`` the predicted probability (``σ(x)`` or the
    input, before the clip), ``y`` the label, ``weights`` broadcast to ``p`` (the example's sample
    weight), ``mask`` True where the element counts (masked elements are left out of every metric).

    Accuracy: predicted positive iff ``p > threshold`` (strict, as torchmetrics and Keras).
    Calibration (torchmetrics ``BinaryCalibrationError``): confidence ``p``, outcome ``y``.
    Brier: ``(p − y)²`` (sklearn ``brier_score_loss`` for binary).
    Accuracy and calibration need hard labels: another value is ``invalid_labels``, at the first (its
    index into ``y`` as given, or into the caller's labels through ``index_of``).
    """
    p = np.asarray(p, dtype=np.float64)
    y_all = np.asarray(y, dtype=np.float64)
    keep = np.ones(p.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    hard = [name for name in names if name in HARD_LABEL_METRICS]
    soft = keep & (y_all != 0) & (y_all != 1)
    if hard and soft.any():
        position = tuple(int(i) for i in np.argwhere(soft)[0])
        index = index_of(position) if index_of is not None else position
        verb = "need" if len(hard) > 1 else "needs"
        message = (
            f"{' and '.join(hard)} {verb} labels of 0 or 1, got {y_all[position]:g} at labels"
            f"{list(index)}; soft labels work for the loss and brier_score"
        )
        issue = Issue("invalid_labels", "labels", message, index=index, received=float(y_all[position]))
        raise LossInputError("invalid_labels", message, issues=[issue], count=int(soft.sum()))
    v = np.broadcast_to(np.asarray(weights, dtype=np.float64), p.shape)[keep]
    p, y_flat = p[keep], y_all[keep]
    total = float(v.sum())
    statistics: dict[str, dict[str, float | np.ndarray]] = {}
    for name in names:
        if name == "accuracy":
            statistics[name] = {"correct": _weighted(v, (p > threshold) == (y_flat == 1)), "total": total}
        elif name == "calibration_error":
            statistics[name] = _calibration_statistics(p, y_flat, v, bins)
        elif name == "brier_score":
            statistics[name] = {"sum": _weighted(v, (p - y_flat) ** 2), "total": total}
        else:
            raise ValueError(f"{name} is not a binary metric (those are {', '.join(BINARY_METRICS)})")
    return {name: result_of(name, stats, warnings) for name, stats in statistics.items()}
