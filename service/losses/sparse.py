"""Softmax cross-entropy with integer class labels (sparse), in pure NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import LossWarning
from .inputs import (
    DEFAULT_MAX_ISSUES,
    Predictions,
    check_common_options,
    class_weights,
    prepare_predictions,
    sample_weights,
    sparse_labels,
)
from .result import LossResult, Reduction, assemble_result
from .rows import logsumexp_terms
from .softmax import (
    clipped_log,
    focal_factor,
    focal_smoothing_sum,
    infinite_loss,
    normalised_probabilities,
    quiet_floating_point,
    reject_non_finite_rows,
    warn_if_probabilities,
)

ArrayLike = Any


@quiet_floating_point
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
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
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

    Focal modulation (Keras ``CategoricalFocalCrossentropy`` on the one-hot target): each
    :math:`\mathrm{nll}_c = -\log p_c` above becomes :math:`(1-p_c)^\gamma\,\mathrm{nll}_c`, with
    :math:`1 - p_c = -\mathrm{expm1}(\log p_c)`, and the bracket is multiplied by :math:`\alpha` (``None``:
    1). :math:`W_i` is unchanged; :math:`\gamma = 0` without :math:`\alpha` is the plain loss, exactly.

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
        focal_gamma: focusing exponent :math:`\gamma \ge 0`; ``0`` is plain cross-entropy.
        focal_alpha: balancing factor :math:`\alpha \in [0, 1]`, or ``None`` for none.
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
    check_common_options(
        reduction=reduction,
        label_smoothing=label_smoothing,
        epsilon=epsilon,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
    )
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
        nll, smooth = _sparse_logit_terms(
            pred, y_safe, counted, cw, label_smoothing, focal_gamma, max_issues, warnings
        )
    else:
        nll, smooth = _sparse_probability_terms(
            pred, y_safe, counted, cw, label_smoothing, focal_gamma, epsilon, max_issues, warnings
        )
    class_factor = np.ones_like(sw) if cw is None else cw[y_safe]
    if focal_gamma:
        nll = focal_factor(-nll, focal_gamma) * nll
    per_example = (1.0 - label_smoothing) * class_factor * nll
    if smooth is not None:
        per_example = per_example + (label_smoothing / classes) * smooth
    if focal_alpha is not None:
        per_example = focal_alpha * per_example
    weight = np.where(counted, sw * class_factor, 0.0)
    # Zero effective weight means no contribution, also where PyTorch would keep the smoothing
    # term of a target class weighted 0: the contract fixes zero-weight positions at exactly 0.
    contribution = np.where(weight != 0, sw * per_example, 0.0)
    return assemble_result(
        contribution,
        weight,
        counted,
        example_shape=pred.example_shape,
        num_classes=pred.num_classes,
        field=pred.field,
        precision=pred.dtype.name,
        reduction=reduction,
        warnings=warnings,
    )


def _sparse_logit_terms(
    pred: Predictions,
    y: np.ndarray,
    counted: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    focal_gamma: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> tuple[np.ndarray, np.ndarray | None]:
    """``nll_y`` per row and, with smoothing, ``Σ_c w_c·nll_c`` (focal: ``Σ_c w_c·(1−p_c)^γ·nll_c``)."""
    z = pred.matrix
    class_w = np.ones(pred.num_classes) if cw is None else cw
    z_y = z[np.arange(len(y)), y]
    # Anchoring at the target makes the loss log s, with the target's term exactly 1. Smoothing needs
    # every class's -log p as a sum of non-negative parts, (m - z_c) + log s: the maximum is the anchor.
    terms = logsumexp_terms(z, (class_w,)) if label_smoothing else logsumexp_terms(z, anchor=y)
    if terms.suspicious:
        reject_non_finite_rows(pred, counted, max_issues)
    warn_if_probabilities(pred, warnings)
    nll = (terms.shift.astype(np.float64) - z_y) + terms.log_s
    smooth = class_w.sum() * terms.log_s - terms.dots[0] if label_smoothing else None
    infinite = counted & ~np.isfinite(nll)
    if infinite.any():
        raise infinite_loss(pred, infinite, max_issues, "the target class has logit -inf", cls=y)
    nll = np.where(counted, nll, 0.0)
    if smooth is None:
        return nll, None
    infinite = counted & ~np.isfinite(smooth)
    if infinite.any():
        raise infinite_loss(
            pred,
            infinite,
            max_issues,
            "label smoothing puts probability on a class whose logit is -inf",
        )
    if focal_gamma:
        smooth = focal_smoothing_sum(terms.log_softmax(z), class_w, focal_gamma)
    return nll, np.where(counted, smooth, 0.0)


def _sparse_probability_terms(
    pred: Predictions,
    y: np.ndarray,
    counted: np.ndarray,
    cw: np.ndarray | None,
    label_smoothing: float,
    focal_gamma: float,
    epsilon: float,
    max_issues: int,
    warnings: list[LossWarning],
) -> tuple[np.ndarray, np.ndarray | None]:
    p = normalised_probabilities(pred, counted, max_issues, warnings)
    if not label_smoothing:
        p_y = p[np.arange(len(y)), y]
        nll = -clipped_log(p_y, epsilon, counted, pred, warnings)
        return np.where(counted, nll, 0.0), None
    used = np.broadcast_to(counted[:, None], p.shape)
    log_p = clipped_log(p, epsilon, used, pred, warnings)
    nll = -log_p[np.arange(len(y)), y]
    if focal_gamma:
        smooth = focal_smoothing_sum(log_p, np.ones(pred.num_classes) if cw is None else cw, focal_gamma)
    else:
        smooth = -(log_p.sum(axis=1) if cw is None else log_p @ cw)
    return np.where(counted, nll, 0.0), np.where(counted, smooth, 0.0)
