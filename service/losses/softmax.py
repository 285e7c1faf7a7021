"""What the softmax families share: stable row checks, the probabilities path and its clip, warnings.

The log-sum-exp kernel itself is in :mod:`.rows`; the formulas are in :mod:`.sparse` and
:mod:`.categorical`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

from .errors import LossInputError, LossWarning, issues_from_mask
from .inputs import SUM_TOLERANCE, Predictions
from .rows import row_max

# How many rows the "logits look like probabilities" check reads before it would read them all.
PROBE_ROWS = 8

F = TypeVar("F", bound=Callable[..., Any])


def quiet_floating_point(loss: F) -> F:
    """Run a loss with NumPy's floating-point warnings off: every non-finite outcome is checked explicitly
    and becomes a named error, so the warnings would only be noise (and cost a context per operation)."""

    @functools.wraps(loss)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return loss(*args, **kwargs)

    return cast(F, quiet)


def reject_non_finite_rows(pred: Predictions, counted: np.ndarray, max_issues: int) -> None:
    """Reject NaN/+inf anywhere and rows of all ``-inf`` that count (ignored ones may be fully masked)."""
    z = pred.matrix
    m = row_max(z)
    bad_rows = np.isnan(m) | (m == np.inf)
    if bad_rows.any():
        bad = np.zeros(z.shape, dtype=bool)
        bad[bad_rows] = np.isnan(z[bad_rows]) | (z[bad_rows] == np.inf)
        raise issues_from_mask(
            bad,
            code="non_finite_value",
            field=pred.field,
            limit=max_issues,
            describe=lambda p: (
                f"{pred.field} must not hold NaN or +inf (got {z[p]} at {pred.row_text(p[0])} class {p[1]})",
                str(z[p]),
            ),
            index_of=lambda p: pred.element_index(*p),
            hint="-inf is allowed and masks a class; NaN and +inf are not",
        )
    fatal = (m == -np.inf) & counted
    if fatal.any():
        raise issues_from_mask(
            fatal,
            code="non_finite_value",
            field=pred.field,
            limit=max_issues,
            describe=lambda p: (
                f"every class of {pred.row_text(p[0])} is -inf: no class has any probability",
                "-inf",
            ),
            index_of=lambda p: pred.element_index(p[0], 0),
            hint="mask at most some classes with -inf, or ignore the example",
        )


def infinite_loss(
    pred: Predictions, rows: np.ndarray, max_issues: int, why_masked: str, cls: np.ndarray | None = None
) -> LossInputError:
    """The error for rows whose loss is infinite: a masked (-inf) class that matters, or float64 overflow."""

    def describe(p: tuple[int, ...]) -> tuple[str, str]:
        masked = bool(np.isneginf(pred.matrix[p[0]]).any())
        why = why_masked if masked else "it exceeds the float64 range (logit differences near 1.8e308)"
        return f"the loss of {pred.row_text(p[0])} is infinite: {why}", "-inf" if masked else "overflow"

    return issues_from_mask(
        rows,
        code="non_finite_value",
        field=pred.field,
        limit=max_issues,
        describe=describe,
        index_of=lambda p: pred.element_index(p[0], 0 if cls is None else int(cls[p[0]])),
        hint="a -inf logit masks a class, so it cannot be the target or carry target probability; "
        "finite logits must differ by less than about 1e308",
    )


def warn_if_probabilities(pred: Predictions, warnings: list[LossWarning]) -> None:
    """Logits whose every row lies in [0, 1] and sums to 1 were most likely softmax outputs."""
    z = pred.matrix
    if z.size == 0 or pred.num_classes < 2 or not _looks_like_probabilities(z[:PROBE_ROWS]):
        return  # the first rows already disprove it: no pass over the whole matrix
    if _looks_like_probabilities(z):
        warnings.append(
            LossWarning(
                "logits_look_like_probabilities",
                "every row of logits lies in [0, 1] and sums to 1: these look like probabilities; send them "
                'as "probabilities" so they are not passed through another softmax',
                field="logits",
            )
        )


def _looks_like_probabilities(z: np.ndarray) -> bool:
    in_range = bool(z.min() >= 0.0) and bool(z.max() <= 1.0)
    return in_range and bool(np.allclose(z.sum(axis=1, dtype=np.float64), 1.0, rtol=0, atol=SUM_TOLERANCE))


# --- probabilities ---------------------------------------------------------------------------------------


def normalised_probabilities(
    pred: Predictions, counted: np.ndarray, max_issues: int, warnings: list[LossWarning]
) -> np.ndarray:
    """Validate probabilities and divide every row by its sum (Keras)."""
    p = pred.matrix
    nonfinite = ~np.isfinite(p)
    if nonfinite.any():
        raise issues_from_mask(
            nonfinite,
            code="non_finite_value",
            field=pred.field,
            limit=max_issues,
            describe=lambda x: (
                f"probabilities must be finite, got {p[x]} in {pred.row_text(x[0])}",
                str(p[x]),
            ),
            index_of=lambda x: pred.element_index(*x),
        )
    outside = (p < 0) | (p > 1)
    if outside.any():
        raise issues_from_mask(
            outside,
            code="invalid_probabilities",
            field=pred.field,
            limit=max_issues,
            describe=lambda x: (
                f"probabilities must lie in [0, 1], got {p[x]} in {pred.row_text(x[0])}",
                float(p[x]),
            ),
            index_of=lambda x: pred.element_index(*x),
            hint='unnormalised scores belong in "logits"',
        )
    sums = p.sum(axis=1, dtype=np.float64)
    zero = counted & (sums == 0)
    if zero.any():
        raise issues_from_mask(
            zero,
            code="invalid_probabilities",
            field=pred.field,
            limit=max_issues,
            describe=lambda x: (f"every probability of {pred.row_text(x[0])} is 0", 0.0),
            index_of=lambda x: pred.element_index(x[0], 0),
            hint="a probability row must sum to 1; an all-zero row has no distribution to renormalise",
        )
    off = counted & (np.abs(sums - 1.0) > SUM_TOLERANCE)
    if off.any():
        first = int(np.argmax(off))
        warnings.append(
            LossWarning(
                "probabilities_not_normalized",
                f"{int(off.sum())} probability row(s) do not sum to 1 (e.g. {pred.row_text(first)} sums to "
                f"{sums[first]:.6g}); they were renormalised, as Keras does",
                field=pred.field,
                index=pred.element_index(first, 0),
            )
        )
    return np.asarray(p / np.where(sums == 0, 1.0, sums)[:, None], dtype=np.float64)


def clipped_log(
    p: np.ndarray, epsilon: float, used: np.ndarray, pred: Predictions, warnings: list[LossWarning]
) -> np.ndarray:
    """``log clip(p, eps, 1 - eps)``, warning when the clip changed a value that enters the loss."""
    return np.asarray(np.log(clip_probabilities(p, epsilon, used, pred.field, warnings)))


def clip_probabilities(
    p: np.ndarray, epsilon: float, used: np.ndarray, field: str, warnings: list[LossWarning]
) -> np.ndarray:
    """``clip(p, eps, 1 - eps)`` (Keras), warning when the clip changed a value that enters the loss."""
    clipped = np.clip(p, epsilon, 1.0 - epsilon)
    hit = used & (clipped != p)
    if hit.any():
        warnings.append(
            LossWarning(
                "probabilities_clipped",
                f"{int(hit.sum())} probability value(s) entering the loss were clipped to [{epsilon:g}, "
                f"1 - {epsilon:g}]; each such term is capped at -log({epsilon:g}) = {-np.log(epsilon):.7g}",
                field=field,
            )
        )
    return np.asarray(clipped)


def focal_factor(log_p: np.ndarray, gamma: float) -> np.ndarray:
    """``(1 − p)^γ`` from ``log p`` without cancellation: ``1 − p = −expm1(log p)`` (optax's log-space
    form), so a confident prediction's tiny ``1 − p`` keeps its relative accuracy."""
    return np.asarray((-np.expm1(log_p)) ** gamma)


def focal_smoothing_sum(log_p: np.ndarray, class_w: np.ndarray, gamma: float) -> np.ndarray:
    """``Σ_c w_c·(1−p_c)^γ·(−log p_c)`` per row; a class weighted 0 contributes 0, even at ``p_c = 0``."""
    terms = np.where(class_w == 0, 0.0, class_w * focal_factor(log_p, gamma) * -log_p)
    return np.asarray(terms.sum(axis=1))
