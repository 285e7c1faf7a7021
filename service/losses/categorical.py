"""Softmax cross-entropy with one-hot or soft label distributions (categorical), in pure NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import LossWarning, issues_from_mask
from .inputs import (
    DEFAULT_MAX_ISSUES,
    SUM_TOLERANCE,
    Predictions,
    check_common_options,
    class_weights,
    input_error,
    prepare_predictions,
    sample_weights,
)
from .result import LossResult, Reduction, assemble_result
from .rows import logsumexp_terms, row_dots
from .softmax import (
    clipped_log,
    focal_factor,
    infinite_loss,
    normalised_probabilities,
    quiet_floating_point,
    reject_non_finite_rows,
    warn_if_probabilities,
)

ArrayLike = Any


@quiet_floating_point
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
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
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

    Focal modulation (Keras ``CategoricalFocalCrossentropy``, whose :math:`\alpha` defaults to 0.25; here
    ``None`` means 1): :math:`l_i = \alpha \sum_c w_c\, t_{i,c} (1-p_{i,c})^\gamma (-\log p_{i,c})`, with
    :math:`1 - p = -\mathrm{expm1}(\log p)`; :math:`\gamma = 0` without :math:`\alpha` is the plain loss.

    Examples:
        >>> import numpy as np
        >>> r = categorical_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([[0.7, 0.2, 0.1]]))
        >>> round(r.loss, 6)
        0.80703

    Args:
        predictions: logits (or probabilities) of shape ``[..., C, ...]`` with the classes on ``axis``.
        labels: target distributions of the predictions' shape.
        from_logits, axis, reduction, sample_weight, class_weight, label_smoothing, epsilon, precision,
        focal_gamma, focal_alpha, max_issues: as for :func:`~service.losses.sparse.sparse_cross_entropy`.

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
    check_common_options(
        reduction=reduction,
        label_smoothing=label_smoothing,
        epsilon=epsilon,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
    )
    raw = np.asarray(predictions)
    pred = prepare_predictions(raw, field=field, axis=axis, precision=precision)
    targets = _target_matrix(np.asarray(labels), raw, pred)
    classes = pred.num_classes
    cw = class_weights(class_weight, classes, max_issues=max_issues)
    sw = sample_weights(sample_weight, pred.example_shape, max_issues=max_issues, warnings=warnings)
    if from_logits:
        per_example = _categorical_logit_loss(
            pred, targets, cw, label_smoothing, focal_gamma, max_issues, warnings
        )
    else:
        _check_distributions(targets, *_distribution_stats(targets), pred, max_issues)
        if label_smoothing:
            targets = (1.0 - label_smoothing) * targets + label_smoothing / classes
        q = targets if cw is None else targets * cw
        per_example = _categorical_probability_loss(pred, q, epsilon, focal_gamma, max_issues, warnings)
    if focal_alpha is not None:
        per_example = focal_alpha * per_example
    counted = np.ones(sw.shape, dtype=bool)
    contribution = np.where(sw != 0, sw * per_example, 0.0)
    return assemble_result(
        contribution,
        sw.copy(),
        counted,
        example_shape=pred.example_shape,
        num_classes=pred.num_classes,
        field=pred.field,
        precision=pred.dtype.name,
        reduction=reduction,
        warnings=warnings,
    )


def _categorical_logit_loss(
    pred: Predictions,
    targets: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    focal_gamma: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> np.ndarray:
    """``(1−ε)·[(Σ t w)·log s − Σ t w d] + (ε/C)·[(Σ w)·log s − Σ w d]``, never building smoothed targets
    (focal: each class's term, from ``log p = d − log s``)."""
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
        reject_non_finite_rows(pred, np.ones(z.shape[0], dtype=bool), max_issues)
    warn_if_probabilities(pred, warnings)
    if focal_gamma:
        loss = _focal_sum(_smoothed(weighted, class_w, label_smoothing), terms.log_softmax(z), focal_gamma)
    else:
        mass = terms.weight_sums[0]
        loss = (1.0 - label_smoothing) * (mass * terms.log_s - terms.dots[0])
        if label_smoothing:
            loss += label_smoothing / pred.num_classes * (class_w.sum() * terms.log_s - terms.dots[1])
    infinite = ~np.isfinite(loss)
    if infinite.any():
        raise infinite_loss(pred, infinite, max_issues, "a class with target probability > 0 has logit -inf")
    return loss


def _categorical_probability_loss(
    pred: Predictions,
    q: np.ndarray,
    epsilon: float,
    focal_gamma: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> np.ndarray:
    counted = np.ones(pred.matrix.shape[0], dtype=bool)
    p = normalised_probabilities(pred, counted, max_issues, warnings)
    log_p = clipped_log(p, epsilon, q > 0, pred, warnings)
    if focal_gamma:
        return _focal_sum(q, log_p, focal_gamma)
    return np.asarray(-(q * log_p).sum(axis=1))


def _smoothed(weighted: np.ndarray, class_w: np.ndarray, label_smoothing: float) -> np.ndarray:
    """Class-weighted targets after smoothing: ``w_c·((1−ε)·t_c + ε/C)``."""
    if not label_smoothing:
        return weighted
    return np.asarray((1.0 - label_smoothing) * weighted + label_smoothing / len(class_w) * class_w)


def _focal_sum(q: np.ndarray, log_p: np.ndarray, gamma: float) -> np.ndarray:
    """``Σ_c q_c·(1−p_c)^γ·(−log p_c)`` per row; ``q_c = 0`` contributes 0, even at a masked class."""
    return np.asarray(np.where(q == 0, 0.0, q * focal_factor(log_p, gamma) * -log_p).sum(axis=1))


# --- targets ---------------------------------------------------------------------------------------------


def _target_matrix(labels: np.ndarray, raw: np.ndarray, pred: Predictions) -> np.ndarray:
    """Soft labels laid out like the predictions' ``(rows, classes)`` matrix, in the compute dtype."""
    if labels.shape != raw.shape:
        hint = None
        if labels.shape == tuple(pred.example_shape) or labels.shape == (*pred.example_shape, 1):
            hint = "labels look like class ids (one per example): send them to sparse_cross_entropy"
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
