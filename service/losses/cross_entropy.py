"""Softmax cross-entropy with integer (sparse) or distribution (categorical) labels, in pure NumPy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

from .errors import Issue, LossInputError, LossWarning, issues_from_mask
from .inputs import (
    DEFAULT_MAX_ISSUES,
    SUM_TOLERANCE,
    Predictions,
    check_option,
    class_weights,
    input_error,
    prepare_predictions,
    sample_weights,
    sparse_labels,
)
from .result import REDUCTIONS, LossResult, Reduction, reduce_statistics
from .rows import logsumexp_terms, row_dots, row_max

# How many rows the "logits look like probabilities" check reads before it would read them all.
PROBE_ROWS = 8

ArrayLike = Any
F = TypeVar("F", bound=Callable[..., Any])


def _quiet(loss: F) -> F:
    """Run a loss with NumPy's floating-point warnings off: every non-finite outcome is checked explicitly
    and becomes a named error, so the warnings would only be noise (and cost a context per operation)."""

    @functools.wraps(loss)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return loss(*args, **kwargs)

    return cast(F, quiet)


@_quiet
def sparse_cross_entropy(
    predictions: ArrayLike,
    labels: ArrayLike,
    *,
    from_logits: bool = True,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    epsilon: float = 1e-7,
    precision: str | None = None,
    max_issues: int = DEFAULT_MAX_ISSUES,
) -> LossResult:
    r"""Softmax cross-entropy with integer class labels.

    Per example :math:`i` with logits :math:`z_i`, label :math:`y_i` and smoothing :math:`\varepsilon`
    (PyTorch's formula, without building one-hot rows):

    .. math::
        l_i = (1-\varepsilon)\, w_{y_i} \bigl(\mathrm{lse}(z_i) - z_{i,y_i}\bigr)
              + \frac{\varepsilon}{C} \sum_c w_c \bigl(\mathrm{lse}(z_i) - z_{i,c}\bigr)

    with class weights :math:`w_c` (1 without them), computed as :math:`\log(1 + \sum_{c \ne y}
    e^{z_{i,c} - z_{i,y}})` (with smoothing, :math:`(m - z_{i,c}) + \log\sum_c e^{z_{i,c} - m}`,
    :math:`m = \max_c z_{i,c}`), so every finite input gives a finite loss, accurate even when tiny.
    The effective weight is :math:`W_i = s_i\, w_{y_i} [y_i \ne \text{ignore\_index}]` and the reductions
    are those of :func:`~service.losses.result.reduce_statistics`; ``losses`` are the contributions
    :math:`s_i l_i` (0 where ignored).

    With ``from_logits=False`` the predictions are probabilities: each row is divided by its sum, clipped
    to ``[epsilon, 1 - epsilon]`` and :math:`-\log` replaces :math:`\mathrm{lse}(z) - z` (Keras).

    Examples:
        >>> import numpy as np
        >>> r = sparse_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([0]))
        >>> round(r.loss, 7)
        0.41703

    Args:
        predictions: logits (or probabilities) of shape ``[..., C, ...]`` with the classes on ``axis``.
        labels: integer class ids, the predictions' shape without ``axis`` (a trailing 1 is squeezed).
        from_logits: whether ``predictions`` are logits (``True``) or probabilities.
        axis: the class axis (``1`` takes PyTorch's ``(N, C, d1, ...)`` layout).
        reduction: ``"mean"``, ``"sum"``, ``"sum_over_batch_size"``, ``"sum_by_nonzero_weights"``,
            ``"none"``.
        sample_weight: weights broadcastable (NumPy rules) to the per-example shape, each >= 0.
        class_weight: ``C`` weights >= 0 (PyTorch ``weight``).
        label_smoothing: :math:`\varepsilon \in [0, 1]`.
        ignore_index: a label value that counts for nothing (loss 0, weight 0), e.g. -100.
        epsilon: clip for probabilities, in ``(0, 0.5)``.
        precision: ``"float32"``, ``"float64"`` or ``None`` (the predictions' own; half upcast to float32).
        max_issues: how many offending elements an error lists at most.

    Returns:
        A :class:`~service.losses.result.LossResult`.

    Raises:
        LossInputError: naming the input, element and values that make the loss undefined.

    References:
        `torch.nn.functional.cross_entropy
        <https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html>`_;
        `tf.nn.sparse_softmax_cross_entropy_with_logits
        <https://www.tensorflow.org/api_docs/python/tf/nn/sparse_softmax_cross_entropy_with_logits>`_;
        `keras.losses.SparseCategoricalCrossentropy <https://keras.io/api/losses/probabilistic_losses/>`_.
    """
    warnings: list[LossWarning] = []
    field = "logits" if from_logits else "probabilities"
    _check_options(reduction, label_smoothing, epsilon)
    raw = np.asarray(predictions)
    pred = prepare_predictions(raw, field=field, axis=axis, precision=precision)
    y, counted, _ = sparse_labels(
        np.asarray(labels),
        pred,
        tuple(raw.shape),
        ignore_index=ignore_index,
        max_issues=max_issues,
        warnings=warnings,
    )
    classes = pred.num_classes
    cw = class_weights(class_weight, classes, max_issues=max_issues)
    sw = sample_weights(sample_weight, pred.example_shape, max_issues=max_issues, warnings=warnings)
    y_safe = np.where(counted, y, 0)

    if from_logits:
        nll, smooth = _sparse_logit_terms(pred, y_safe, counted, cw, label_smoothing, max_issues, warnings)
    else:
        nll, smooth = _sparse_probability_terms(
            pred, y_safe, counted, cw, label_smoothing, epsilon, max_issues, warnings
        )
    class_factor = np.ones_like(sw) if cw is None else cw[y_safe]
    per_example = (1.0 - label_smoothing) * class_factor * nll
    if smooth is not None:
        per_example = per_example + (label_smoothing / classes) * smooth
    weight = np.where(counted, sw * class_factor, 0.0)
    # Zero effective weight means no contribution, also where PyTorch would keep the smoothing
    # term of a target class weighted 0: the contract fixes zero-weight positions at exactly 0.
    contribution = np.where(weight != 0, sw * per_example, 0.0)
    return _result(contribution, weight, counted, pred, reduction, warnings)


@_quiet
def categorical_cross_entropy(
    predictions: ArrayLike,
    labels: ArrayLike,
    *,
    from_logits: bool = True,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    epsilon: float = 1e-7,
    precision: str | None = None,
    max_issues: int = DEFAULT_MAX_ISSUES,
) -> LossResult:
    r"""Softmax cross-entropy with one-hot or soft label distributions.

    Per example :math:`i` with logits :math:`z_i`, target distribution :math:`t_i` (smoothed to
    :math:`(1-\varepsilon)\,t_i + \varepsilon/C`) and class weights :math:`w_c` inside the sum:

    .. math::
        l_i = -\sum_c w_c\, t_{i,c} \log\mathrm{softmax}(z_i)_c
            = \sum_c w_c t_{i,c} (m - z_{i,c}) + \Bigl(\sum_c w_c t_{i,c}\Bigr) \log\sum_c e^{z_{i,c}-m}

    A ``-inf`` logit where the target is 0 is a masked class and contributes 0. Targets must be
    distributions: every value finite and >= 0, every row summing to 1. The effective weight is the sample
    weight :math:`s_i`; ``losses`` are :math:`s_i l_i`.

    Examples:
        >>> import numpy as np
        >>> r = categorical_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([[0.7, 0.2, 0.1]]))
        >>> round(r.loss, 6)
        0.80703

    Args:
        predictions: logits (or probabilities) of shape ``[..., C, ...]`` with the classes on ``axis``.
        labels: target distributions of the predictions' shape.
        from_logits, axis, reduction, sample_weight, class_weight, label_smoothing, epsilon, precision,
        max_issues: as for :func:`sparse_cross_entropy`.

    Returns:
        A :class:`~service.losses.result.LossResult`.

    Raises:
        LossInputError: naming the input, element and values that make the loss undefined.

    References:
        `tf.nn.softmax_cross_entropy_with_logits
        <https://www.tensorflow.org/api_docs/python/tf/nn/softmax_cross_entropy_with_logits>`_;
        `keras.losses.CategoricalCrossentropy <https://keras.io/api/losses/probabilistic_losses/>`_;
        `optax.softmax_cross_entropy <https://optax.readthedocs.io/en/latest/api/losses.html>`_.
    """
    warnings: list[LossWarning] = []
    field = "logits" if from_logits else "probabilities"
    _check_options(reduction, label_smoothing, epsilon)
    raw = np.asarray(predictions)
    pred = prepare_predictions(raw, field=field, axis=axis, precision=precision)
    targets = _target_matrix(np.asarray(labels), raw, pred)
    classes = pred.num_classes
    cw = class_weights(class_weight, classes, max_issues=max_issues)
    sw = sample_weights(sample_weight, pred.example_shape, max_issues=max_issues, warnings=warnings)
    if from_logits:
        per_example = _categorical_logit_loss(pred, targets, cw, label_smoothing, max_issues, warnings)
    else:
        _check_distributions(targets, *_distribution_stats(targets), pred, max_issues)
        if label_smoothing:
            targets = (1.0 - label_smoothing) * targets + label_smoothing / classes
        q = targets if cw is None else targets * cw
        per_example = _categorical_probability_loss(pred, q, epsilon, max_issues, warnings)
    counted = np.ones(sw.shape, dtype=bool)
    contribution = np.where(sw != 0, sw * per_example, 0.0)
    return _result(contribution, sw.copy(), counted, pred, reduction, warnings)


# --- options and results -------------------------------------------------------------------------------


def _check_options(reduction: str, label_smoothing: float, epsilon: float) -> None:
    check_option(
        reduction in REDUCTIONS,
        "reduction",
        f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}",
    )
    check_option(
        0.0 <= label_smoothing <= 1.0,
        "label_smoothing",
        f"label_smoothing must be in [0, 1], got {label_smoothing}",
    )
    check_option(0.0 < epsilon < 0.5, "epsilon", f"epsilon must be in (0, 0.5), got {epsilon}")


def _result(
    contribution: np.ndarray,
    weight: np.ndarray,
    counted: np.ndarray,
    pred: Predictions,
    reduction: Reduction,
    warnings: list[LossWarning],
) -> LossResult:
    loss_sum = float(contribution.sum())
    weight_sum = float(weight.sum())
    if not np.isfinite(weight_sum):
        raise LossInputError(
            "invalid_weight",
            "the sample weights are so large that their sum overflows float64",
            issues=[Issue("invalid_weight", "sample_weight", "Σ weights overflows float64")],
        )
    if not np.isfinite(loss_sum):
        raise LossInputError(
            "non_finite_value",
            "the weighted losses are so large that their sum overflows float64",
            issues=[Issue("non_finite_value", pred.field, "Σ w_i·l_i overflows float64")],
            hint="scale the sample weights down; every reduction except 'sum' is unchanged by that",
        )
    count = int(np.count_nonzero(counted))
    nonzero = int(np.count_nonzero(counted & (weight != 0)))
    loss = reduce_statistics(
        reduction,
        loss_sum=loss_sum,
        weight_sum=weight_sum,
        count=count,
        nonzero_weight_count=nonzero,
    )
    if count == 0:
        warnings.append(
            LossWarning(
                "empty_batch",
                "no example counted (the batch is empty or every label is ignored): the loss is null, "
                "except 0.0 for 'sum'",
                field="labels",
            )
        )
    elif loss is None and reduction != "none":
        warnings.append(
            LossWarning(
                "zero_denominator",
                f"the denominator of reduction {reduction!r} is 0, so the loss is null (not NaN, not 0); "
                "loss_sum, weight_sum and count are still exact",
            )
        )
    return LossResult(
        loss=loss,
        reduction=reduction,
        losses=contribution.reshape(pred.example_shape),
        num_classes=pred.num_classes,
        count=count,
        weight_sum=weight_sum,
        nonzero_weight_count=nonzero,
        loss_sum=loss_sum,
        precision=pred.dtype.name,
        warnings=warnings,
    )


# --- logits ----------------------------------------------------------------------------------------------


def _reject_non_finite_rows(pred: Predictions, counted: np.ndarray, max_issues: int) -> None:
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


def _infinite_loss(
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


def _sparse_logit_terms(
    pred: Predictions,
    y: np.ndarray,
    counted: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> tuple[np.ndarray, np.ndarray | None]:
    z = pred.matrix
    class_w = np.ones(pred.num_classes) if cw is None else cw
    z_y = z[np.arange(len(y)), y]
    # Anchoring at the target makes the loss log s, with the target's term exactly 1. Smoothing needs
    # every class's -log p as a sum of non-negative parts, (m - z_c) + log s: the maximum is the anchor.
    terms = logsumexp_terms(z, (class_w,)) if label_smoothing else logsumexp_terms(z, anchor=y)
    if terms.suspicious:
        _reject_non_finite_rows(pred, counted, max_issues)
    _warn_if_probabilities(pred, warnings)
    nll = (terms.shift.astype(np.float64) - z_y) + terms.log_s
    smooth = class_w.sum() * terms.log_s - terms.dots[0] if label_smoothing else None
    infinite = counted & ~np.isfinite(nll)
    if infinite.any():
        raise _infinite_loss(pred, infinite, max_issues, "the target class has logit -inf", cls=y)
    nll = np.where(counted, nll, 0.0)
    if smooth is None:
        return nll, None
    infinite = counted & ~np.isfinite(smooth)
    if infinite.any():
        raise _infinite_loss(
            pred,
            infinite,
            max_issues,
            "label smoothing puts probability on a class whose logit is -inf",
        )
    return nll, np.where(counted, smooth, 0.0)


def _categorical_logit_loss(
    pred: Predictions,
    targets: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> np.ndarray:
    """``(1−ε)·[(Σ t w)·log s − Σ t w d] + (ε/C)·[(Σ w)·log s − Σ w d]``, never building smoothed targets."""
    z = pred.matrix
    weighted = targets if cw is None else targets * cw.astype(targets.dtype)
    class_w = np.ones(pred.num_classes) if cw is None else cw
    weights = (weighted, class_w) if label_smoothing else (weighted,)
    terms = logsumexp_terms(z, weights)
    # The kernel's sums and minimum of the (unweighted) targets check them without passes of their own;
    # labels are still checked before logits, as on every other path.
    stats = (terms.weight_sums[0], float(terms.weight_min[0])) if cw is None else _distribution_stats(targets)
    _check_distributions(targets, *stats, pred, max_issues)
    if terms.suspicious:
        _reject_non_finite_rows(pred, np.ones(z.shape[0], dtype=bool), max_issues)
    _warn_if_probabilities(pred, warnings)
    mass = terms.weight_sums[0]
    loss: np.ndarray = (1.0 - label_smoothing) * (mass * terms.log_s - terms.dots[0])
    if label_smoothing:
        loss += label_smoothing / pred.num_classes * (class_w.sum() * terms.log_s - terms.dots[1])
    infinite = ~np.isfinite(loss)
    if infinite.any():
        raise _infinite_loss(pred, infinite, max_issues, "a class with target probability > 0 has logit -inf")
    return loss


def _warn_if_probabilities(pred: Predictions, warnings: list[LossWarning]) -> None:
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


def _normalised_probabilities(
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


def _clipped_log(
    p: np.ndarray, epsilon: float, used: np.ndarray, pred: Predictions, warnings: list[LossWarning]
) -> np.ndarray:
    """``log clip(p, eps, 1 - eps)``, warning when the clip changed a value that enters the loss."""
    clipped = np.clip(p, epsilon, 1.0 - epsilon)
    hit = used & (clipped != p)
    if hit.any():
        warnings.append(
            LossWarning(
                "probabilities_clipped",
                f"{int(hit.sum())} probability value(s) entering the loss were clipped to [{epsilon:g}, "
                f"1 - {epsilon:g}]; each such term is capped at -log({epsilon:g}) = {-np.log(epsilon):.7g}",
                field=pred.field,
            )
        )
    return np.asarray(np.log(clipped))


def _sparse_probability_terms(
    pred: Predictions,
    y: np.ndarray,
    counted: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    epsilon: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> tuple[np.ndarray, np.ndarray | None]:
    p = _normalised_probabilities(pred, counted, max_issues, warnings)
    if not label_smoothing:
        p_y = p[np.arange(len(y)), y]
        nll = -_clipped_log(p_y, epsilon, counted, pred, warnings)
        return np.where(counted, nll, 0.0), None
    used = np.broadcast_to(counted[:, None], p.shape)
    log_p = _clipped_log(p, epsilon, used, pred, warnings)
    nll = -log_p[np.arange(len(y)), y]
    smooth = -(log_p.sum(axis=1) if cw is None else log_p @ cw)
    return np.where(counted, nll, 0.0), np.where(counted, smooth, 0.0)


def _categorical_probability_loss(
    pred: Predictions, q: np.ndarray, epsilon: float, max_issues: int, warnings: list[LossWarning]
) -> np.ndarray:
    counted = np.ones(pred.matrix.shape[0], dtype=bool)
    p = _normalised_probabilities(pred, counted, max_issues, warnings)
    log_p = _clipped_log(p, epsilon, q > 0, pred, warnings)
    return np.asarray(-(q * log_p).sum(axis=1))


# --- categorical targets ---------------------------------------------------------------------------------


def _target_matrix(labels: np.ndarray, raw: np.ndarray, pred: Predictions) -> np.ndarray:
    """Soft labels laid out like the predictions' ``(rows, classes)`` matrix, in the compute dtype."""
    if labels.shape != raw.shape:
        hint = None
        if labels.shape == tuple(pred.example_shape) or labels.shape == (*pred.example_shape, 1):
            hint = "labels look like class ids (one per example): send them to POST /v1/cross-entropy/sparse"
        raise input_error(
            "shape_mismatch",
            f"labels must have the shape of {pred.field}: expected {tuple(raw.shape)}, received "
            f"{tuple(labels.shape)}",
            field="labels",
            expected=list(raw.shape),
            received=list(labels.shape),
            hint=hint,
        )
    if labels.dtype.kind not in "fiu":
        raise input_error(
            "invalid_labels", f"labels must be numbers, got dtype {labels.dtype}", field="labels"
        )
    moved = np.moveaxis(labels, pred.axis, -1).reshape(-1, pred.num_classes)
    return np.ascontiguousarray(moved, dtype=pred.dtype)


def _distribution_stats(t: np.ndarray) -> tuple[np.ndarray, float]:
    """Row sums (per-row BLAS dots in the compute dtype, as the kernel takes them: error ~1e-7 relative,
    far inside SUM_TOLERANCE) and the smallest value."""
    sums = row_dots(t, np.ones(t.shape[1], t.dtype)).astype(np.float64)
    return sums, float(t.min(initial=np.inf))


def _check_distributions(
    t: np.ndarray, sums: np.ndarray, lowest: float, pred: Predictions, max_issues: int
) -> None:
    """Every target value finite and >= 0 and every row summing to 1, judged from the row sums and the
    smallest value, which find what a full element-wise check would."""
    if not np.isfinite(sums).all():
        # A float32 sum can overflow on huge finite values: only float64 tells those from infinite ones.
        sums = np.add.reduce(t, axis=1, dtype=np.float64)
    if not np.isfinite(sums).all() or lowest < 0:
        bad = ~np.isfinite(t) | (t < 0)
        raise issues_from_mask(
            bad,
            code="invalid_labels",
            field="labels",
            limit=max_issues,
            index_of=lambda p: pred.element_index(*p),
            describe=lambda p: (
                f"target probabilities must be finite and >= 0, got {t[p]}",
                float(t[p]),
            ),
        )
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        raise issues_from_mask(
            off,
            code="invalid_labels",
            field="labels",
            limit=max_issues,
            index_of=lambda p: pred.element_index(p[0], 0),
            describe=lambda p: (
                f"the target row {pred.row_text(p[0]).replace(pred.field, 'labels')} sums to "
                f"{sums[p[0]]:.6g}, not 1",
                float(sums[p[0]]),
            ),
            hint="categorical labels are distributions over the classes; to leave an example out give it "
            "sample_weight 0",
        )
