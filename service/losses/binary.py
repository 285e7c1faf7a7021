"""Sigmoid (binary) cross-entropy for binary and multi-label data, in pure NumPy.

Every element is an independent yes/no question; an example's loss is the mean of its labels' terms over
the label axis (Keras), or each element is its own example (``axis=None``: torch's and TF's view).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metrics as m
from .errors import LossWarning, issues_from_mask
from .inputs import (
    DEFAULT_MAX_ISSUES,
    Predictions,
    check_common_options,
    input_error,
    per_class_weights,
    prepare_predictions,
    sample_weights,
)
from .result import LossResult, Reduction, assemble_result
from .rows import NARROW, row_dots
from .softmax import clip_probabilities, quiet_floating_point

ArrayLike = Any

# Elements per block of the plain logits path: its buffers (two in the compute dtype, one float64) and
# the block's logits and labels fit in a core's L2 cache.
_PLAIN_BLOCK = 1 << 15
# With few classes the passes are cheap and their number per block is what costs: larger blocks.
_NARROW_BLOCK = 1 << 17
# Below this loss per label a row's summed log-products may have lost relative accuracy: redone exactly.
_TINY = 2.0**-32


@quiet_floating_point
def binary_cross_entropy(
    predictions: ArrayLike,
    labels: ArrayLike,
    *,
    from_logits: bool = True,
    axis: int | None = -1,
    reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    ignore_index: float | None = None,
    epsilon: float = 1e-7,
    precision: str | None = None,
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
    metrics: Sequence[str] = (),
    calibration_bins: int = m.DEFAULT_BINS,
    threshold: float = m.DEFAULT_THRESHOLD,
    max_issues: int = DEFAULT_MAX_ISSUES,
) -> LossResult:
    r"""Sigmoid cross-entropy: hard or soft labels in ``[0, 1]``, one per prediction.

    Per element with logit :math:`x`, target :math:`y \leftarrow y(1-\varepsilon) + \varepsilon/2`
    (Keras smoothing) and ``pos_weight`` :math:`q`, with :math:`\mathrm{sp}(x) = \log(1 + e^x)`:

    .. math::
        \ell = \max(x, 0) - x y + \log(1 + e^{-|x|})
        \qquad\text{or, with } q:\quad \ell = (1-y)\,\mathrm{sp}(x) + q\,y\,\mathrm{sp}(-x)

    (both TF's ``weighted_cross_entropy_with_logits``; the second is a sum of non-negative terms, so it
    is exact for every finite :math:`x`: :math:`x=-40, y=0` gives 4.25e-18, not torch's 0.0).
    Probabilities are clipped to ``[epsilon, 1 - epsilon]`` (Keras, no renormalisation):
    :math:`\ell = -[q\,y\log p + (1-y)\log(1-p)]`. Focal modulation (torchvision, optax, Keras):
    :math:`\ell \leftarrow \ell\,(1-p_t)^\gamma\,(\alpha y + (1-\alpha)(1-y))` with
    :math:`p_t = p y + (1-p)(1-y)`; from logits :math:`\log(1-p_t)` is a log-sum-exp of
    :math:`\log\sigma(\pm x)` (no cancellation), and :math:`\gamma = 0` skips it (plain BCE, exactly).

    Per example, with mask :math:`m` (labels equal to ``ignore_index`` are masked) and class weights
    :math:`w_c`: :math:`l_i = \sum_c m_{ic} w_c \ell_{ic} / \sum_c m_{ic}`; effective weight
    :math:`W_i = s_i [\sum_c m_{ic} > 0]`. Reductions as :func:`~service.losses.result.reduce_statistics`.

    Shapes: predictions and labels ``S`` (rank >= 1); per-example shape ``S`` without ``axis``, or ``S``
    itself with ``axis=None`` and for rank-1 input (``N`` examples of one label; Keras would read a 1-D
    vector as one example). ``class_weight`` and ``pos_weight`` run along the label axis (with
    ``axis=None`` or rank 1: along the last axis, as torch broadcasts); a single weight applies to all.

    Examples:
        >>> import numpy as np
        >>> r = binary_cross_entropy(np.array([[2.0], [-1.0]]), np.array([[1.0], [0.0]]))
        >>> round(r.loss, 7)  # (softplus(-2) + softplus(-1)) / 2
        0.2200948

    Args:
        predictions: logits (or probabilities, ``from_logits=False``) of shape ``S``.
        labels: numbers in ``[0, 1]`` of shape ``S`` (a trailing 1 on either side is squeezed).
        from_logits: whether ``predictions`` are logits (``True``) or probabilities.
        axis: the label axis, or ``None`` for every element an example.
        reduction, sample_weight, epsilon, precision, max_issues: as for
            :func:`~service.losses.sparse.sparse_cross_entropy`.
        class_weight: per-label weights >= 0 inside the example's mean (torch ``weight`` of shape ``[C]``).
        pos_weight: per-label weights >= 0 of the positive term (torch/TF ``pos_weight``).
        label_smoothing: :math:`\varepsilon \in [0, 1]`.
        ignore_index: a label value that masks its element (e.g. -1, "not annotated").
        focal_gamma: :math:`\gamma \ge 0`; ``0`` is plain cross-entropy.
        focal_alpha: :math:`\alpha \in [0, 1]`, or ``None`` for no class balancing.
        metrics: names from :data:`~service.losses.metrics.BINARY_METRICS`, per label element, from
            :math:`\sigma(x)` (or the probabilities) before the clip and the labels before smoothing,
            weighted by the example's sample weight; masked elements are left out.
        calibration_bins: equal-width bins of ``calibration_error``, 1 to 1000.
        threshold: ``accuracy`` predicts positive iff :math:`p >` ``threshold``.

    Returns:
        A :class:`~service.losses.result.LossResult` (``num_classes``: labels per example).

    Raises:
        LossInputError: naming the input, element and values that make the loss undefined.

    References:
        `tf.nn.weighted_cross_entropy_with_logits
        <https://www.tensorflow.org/api_docs/python/tf/nn/weighted_cross_entropy_with_logits>`_;
        `torch.nn.functional.binary_cross_entropy_with_logits
        <https://pytorch.org/docs/stable/generated/torch.nn.functional.binary_cross_entropy_with_logits.html>`_;
        `keras.losses.BinaryCrossentropy / BinaryFocalCrossentropy
        <https://keras.io/api/losses/probabilistic_losses/>`_; `optax.sigmoid_focal_loss
        <https://optax.readthedocs.io/en/latest/api/losses.html>`_.
    """
    warnings: list[LossWarning] = []
    check_common_options(
        reduction=reduction,
        label_smoothing=label_smoothing,
        epsilon=epsilon,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
        calibration_bins=calibration_bins,
        threshold=threshold,
    )
    m.check_metric_names(metrics, m.BINARY_METRICS)
    raw = np.asarray(predictions)
    layout = _layout(raw, "logits" if from_logits else "probabilities", axis, precision)
    labels_array = np.asarray(labels)
    given = _label_matrix(labels_array, layout, warnings)
    # Plain BCE from logits takes the blocked path; every other option the element-wise one, as does
    # plain BCE with a label outside [0, 1] (which that path then names).
    plain = from_logits and ignore_index is None and class_weight is None and pos_weight is None
    totals = None
    if plain and focal_gamma == 0 and focal_alpha is None:
        totals = _plain_logit_sums(layout, given, label_smoothing, max_issues)
    if totals is not None:
        counts = np.full(totals.shape, given.shape[1])
        y = given.astype(np.float64, copy=False) if metrics else given
        mask = np.ones(given.shape, dtype=bool)
        sw = sample_weights(
            sample_weight, layout.pred.example_shape, max_issues=max_issues, warnings=warnings
        )
    else:
        y, mask = _binary_labels(given, labels_array.shape, layout, ignore_index, max_issues)
        _check_predictions(layout, from_logits, max_issues)
        cw = layout.along(class_weight, "class_weight", max_issues)
        pw = layout.along(pos_weight, "pos_weight", max_issues)
        sw = sample_weights(
            sample_weight, layout.pred.example_shape, max_issues=max_issues, warnings=warnings
        )
        terms = _element_terms(
            layout,
            y,
            mask,
            cw,
            pw,
            from_logits,
            label_smoothing,
            epsilon,
            focal_gamma,
            focal_alpha,
            max_issues,
            warnings,
        )
        totals, counts = _row_totals(terms), np.count_nonzero(mask, axis=1)
    counted = counts > 0
    per_example = np.where(counted, totals / np.maximum(counts, 1), 0.0)
    weight = np.where(counted, sw, 0.0)
    contribution = np.where(weight != 0, sw * per_example, 0.0)
    results = None
    if metrics:
        # Metrics read the probability before the clip and the label before smoothing.
        x = layout.pred.matrix
        p = np.exp(-_softplus(-x.astype(np.float64))) if from_logits else x.astype(np.float64)
        results = m.binary_metrics(
            metrics,
            p,
            y,
            sw[:, None],
            mask=mask,
            threshold=threshold,
            bins=calibration_bins,
            warnings=warnings,
            index_of=layout.index,
        )
    return assemble_result(
        contribution,
        weight,
        counted,
        example_shape=layout.pred.example_shape,
        num_classes=layout.num_classes,
        field=layout.pred.field,
        precision=layout.pred.dtype.name,
        reduction=reduction,
        warnings=warnings,
        metrics=results,
    )


def _element_terms(
    layout: _Layout,
    y: np.ndarray,
    mask: np.ndarray,
    cw: np.ndarray | None,
    pw: np.ndarray | None,
    from_logits: bool,
    label_smoothing: float,
    epsilon: float,
    focal_gamma: float,
    focal_alpha: float | None,
    max_issues: int,
    warnings: list[LossWarning],
) -> np.ndarray:
    """Every element's weighted term in float64 (masked elements 0): the path of every option."""
    # Probabilities are clipped and logged in float64, as on the softmax endpoints: in float32 1 − 1e-7
    # rounds to 0.99999988 and the two caps would differ (15.94 and 16.12).
    dtype = layout.pred.dtype if from_logits else np.dtype(np.float64)
    t = _smoothed(y, dtype, label_smoothing)
    x = layout.pred.matrix.astype(dtype, copy=False)
    if from_logits:
        ell = _logit_terms(x, t, pw)
    else:
        ell = _probability_terms(x, t, pw, epsilon, mask, layout.pred.field, warnings)
    if focal_gamma:
        ell = ell * _focal_factor(x, t, focal_gamma, from_logits)
    if focal_alpha is not None:
        ell = ell * (focal_alpha * t + (1.0 - focal_alpha) * (1.0 - t))

    terms = np.where(mask, ell.astype(np.float64), 0.0)
    overflow = mask & ~np.isfinite(terms)
    if overflow.any():
        raise issues_from_mask(
            overflow,
            code="non_finite_value",
            field=layout.pred.field,
            limit=max_issues,
            describe=lambda p: (f"the loss of element {layout.index(p)} overflows {dtype}", None),
            index_of=layout.index,
            hint="pos_weight times a huge logit exceeds the float range; compute in float64 or scale down",
        )
    if cw is not None:
        terms = terms * cw
    return terms


def _row_totals(terms: np.ndarray) -> np.ndarray:
    """Per-row sums of float64 element terms."""
    classes = terms.shape[1]
    return terms[:, 0] if classes == 1 else row_dots(terms, np.ones(classes))


def _smoothed(y: np.ndarray, dtype: np.dtype, label_smoothing: float) -> np.ndarray:
    """The targets ``y(1 − ε) + ε/2`` in ``dtype``."""
    t = y.astype(dtype)
    if label_smoothing:
        t = t * dtype.type(1.0 - label_smoothing) + dtype.type(label_smoothing / 2)
    return t


def _plain_logit_sums(
    layout: _Layout, labels: np.ndarray, label_smoothing: float, max_issues: int
) -> np.ndarray | None:
    r"""Per-row :math:`\sum_c \max(x, 0) - x t + \log(1 + e^{-|x|})` (float64) of the plain loss from
    logits, block by block while each block is in cache; ``None`` when a label lies outside ``[0, 1]``
    (the general path then names it).

    The first two terms are taken per element in the compute dtype (exact for hard labels, every term
    ``>= 0``) and summed per row. The last, in float32, is summed as the log of a product
    (in float64, ``log1p`` per element joins the others):
    :math:`1 + e` is exact in float64 for every float32 ``e`` above ``2^{-29}`` (below it, it only loses
    an absolute ``2^{-53}``), and a product of ≤ 512 such factors rounds by a few ``2^{-53}`` at most, so
    a row's total is off by at most about ``C · 2^{-52}`` absolutely. Rows whose total is below
    :data:`_TINY` per label (every label confidently right, where that error would no longer be small
    relative to the loss), rows that overflow and non-finite logits are redone element by element.

    Few classes: each block is turned class-major first, so every pass, and the per-row sums, run along
    long contiguous rows rather than short ones (the order of each row's sum depends on ``C`` only)."""
    x = layout.pred.matrix
    dtype = x.dtype
    rows, classes = x.shape
    totals = np.empty(rows, dtype=np.float64)
    narrow, products = classes < NARROW, dtype == np.float32
    block_rows = max(1, (_NARROW_BLOCK if narrow else _PLAIN_BLOCK) // classes)
    size = (classes, min(block_rows, rows)) if narrow else (min(block_rows, rows), classes)
    block = np.empty(size if narrow else (0, 0), dtype)
    first, second, third = (np.empty(size, dtype) for _ in range(3))
    factors = np.empty(size if products else (0, 0), np.float64)
    ones = np.ones(classes, dtype)
    keep, shift = dtype.type(1.0 - label_smoothing), dtype.type(label_smoothing / 2)
    half = dtype.type(0.5)
    for start in range(0, rows, block_rows):
        at = slice(start, min(rows, start + block_rows))
        xb, yb = x[at], labels[at]
        n = len(xb)
        if yb.size and not (yb.min() >= 0 and yb.max() <= 1):  # NaN fails both
            return None
        if narrow:
            xb = block[:, :n]
            np.copyto(xb, x[at].T)
            yb = yb.T
        a, b, c = (buf[:, :n] if narrow else buf[:n] for buf in (first, second, third))
        np.abs(xb, out=b)
        # max(x, 0) as (x + |x|) / 2, exactly (an overflow to inf is redone below): np.maximum takes
        # NaN-aware scalar loops, 4x the time of these two passes.
        np.add(xb, b, out=a)
        np.multiply(a, half, out=a)
        if label_smoothing:
            np.multiply(yb, keep, out=c)
            np.add(c, shift, out=c)
            np.multiply(c, xb, out=c)
        else:
            np.multiply(xb, yb, out=c)
        np.subtract(a, c, out=a)  # max(x, 0) − x·t, before anything joins it
        np.negative(b, out=b)
        np.exp(b, out=b)
        if products:
            v = factors[:, :n] if narrow else factors[:n]
            np.add(b, 1.0, out=v, dtype=np.float64)  # in float64: a float32 sum would round 1 + e
            log_sum = _log_row_products(v if narrow else v.T)
        else:  # float64: 1 + e would round, so log1p per element, summed with the other terms
            np.log1p(b, out=b)
            np.add(a, b, out=a)
            log_sum = np.zeros(n)
        sums = _class_major_sums(a) if narrow else row_dots(a, ones)
        totals[at] = sums.astype(np.float64) + log_sum
    redo = np.flatnonzero(~(totals >= classes * _TINY) | np.isinf(totals))
    if redo.size:
        if not np.isfinite(totals[redo]).all():
            _check_predictions(layout, True, max_issues)
        t = _smoothed(labels[redo], dtype, label_smoothing)
        totals[redo] = _row_totals(_logit_terms(x[redo], t, None).astype(np.float64))
    return totals


def _class_major_sums(a: np.ndarray) -> np.ndarray:
    """``Σ_c a_c`` per row for ``a`` of shape ``(classes, rows)`` (overwritten), pairwise by halves."""
    n = a.shape[0]
    while n > 1:
        half = n // 2
        np.add(a[:half], a[n - half : n], out=a[:half])
        n -= half
    total: np.ndarray = a[0]
    return total


def _log_row_products(v: np.ndarray) -> np.ndarray:
    """``Σ_c log v_c`` per row for ``v`` of shape ``(classes, rows)`` in ``[1, 2]`` (overwritten): rows of
    classes are multiplied pairwise (the order depends on the number of classes only) while a product
    holds at most 512 factors, then the remaining few are logged and summed by :func:`row_dots`."""
    n, factors = v.shape[0], 1
    while n > 1 and 2 * factors <= 512:
        half = n // 2
        np.multiply(v[:half], v[n - half : n], out=v[:half])
        n -= half
        factors *= 2
    return row_dots(np.log(v[:n]).T, np.ones(n))


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)`` for every finite ``x``, without overflow."""
    return np.asarray(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))


def _logit_terms(x: np.ndarray, t: np.ndarray, pw: np.ndarray | None) -> np.ndarray:
    if pw is None:
        return np.asarray(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
    q = pw.astype(x.dtype)
    return np.asarray((1 - t) * _softplus(x) + q * t * _softplus(-x))


def _probability_terms(
    p: np.ndarray,
    t: np.ndarray,
    pw: np.ndarray | None,
    epsilon: float,
    mask: np.ndarray,
    field: str,
    warnings: list[LossWarning],
) -> np.ndarray:
    clipped = clip_probabilities(p, epsilon, mask, field, warnings)
    positive = t * np.log(clipped)
    if pw is not None:
        positive = pw.astype(p.dtype) * positive
    return np.asarray(-(positive + (1 - t) * np.log1p(-clipped)))


def _focal_factor(x: np.ndarray, t: np.ndarray, gamma: float, from_logits: bool) -> np.ndarray:
    """``(1 − p_t)^γ`` with ``1 − p_t = t·(1 − p) + (1 − t)·p``: non-negative terms, no cancellation.
    From logits in log space (optax): ``log(1 − p_t) = logaddexp(log(1−t) + log σ(x), log t + log σ(−x))``."""
    if from_logits:
        log_one_minus = np.logaddexp(np.log(1 - t) - _softplus(-x), np.log(t) - _softplus(x))
        return np.asarray(np.exp(gamma * log_one_minus))
    return np.asarray((t * (1 - x) + (1 - t) * x) ** gamma)


# --- layout ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """The predictions as a ``(rows, labels)`` matrix: the label axis last, or one column per element
    (``elementwise``: ``axis=None`` or rank 1)."""

    pred: Predictions
    shape: tuple[int, ...]
    elementwise: bool

    @property
    def num_classes(self) -> int:
        return 1 if self.elementwise else self.pred.num_classes

    def index(self, position: tuple[int, ...]) -> tuple[int, ...]:
        """Index into the original predictions of matrix element ``(row, label)``."""
        index = self.pred.element_index(*position)
        return index[:-1] if self.elementwise else index

    def matrix(self, array: np.ndarray) -> np.ndarray:
        """An array of the predictions' shape laid out like the matrix."""
        if self.elementwise:
            return array.reshape(-1, 1)
        return np.moveaxis(array, self.pred.axis, -1).reshape(-1, self.pred.num_classes)

    def along(self, values: ArrayLike | None, field: str, max_issues: int) -> np.ndarray | None:
        """Per-label weights along the label axis (elementwise: the last axis), broadcast to the matrix."""
        size = self.shape[-1] if self.elementwise else self.pred.num_classes
        weights = per_class_weights(
            values, size, field=field, max_issues=max_issues, what="label", broadcast_one=True
        )
        if weights is None or not self.elementwise:
            return weights
        return np.broadcast_to(weights, self.shape).reshape(-1, 1)


def _layout(raw: np.ndarray, field: str, axis: int | None, precision: str | None) -> _Layout:
    if raw.ndim == 0:
        raise input_error(
            "shape_mismatch",
            f"{field} cannot be a scalar: send an array (rank 1: one label per example)",
            field=field,
            expected="rank >= 1",
            received=[],
        )
    if raw.ndim >= 2 and axis is not None:
        return _Layout(
            prepare_predictions(raw, field=field, axis=axis, precision=precision), raw.shape, False
        )
    if axis is not None and (isinstance(axis, bool) or axis not in (0, -1)):
        raise input_error(
            "invalid_field",
            f"axis {axis!r} is out of range for {field} of rank 1 (valid: -1, 0 or null)",
            field="axis",
            expected=[-1, 0],
            received=axis,
        )
    pred = prepare_predictions(raw[..., None], field=field, axis=-1, precision=precision)
    return _Layout(pred, raw.shape, True)


# --- validation ------------------------------------------------------------------------------------------


def _check_predictions(layout: _Layout, from_logits: bool, max_issues: int) -> None:
    """NaN and ±inf are rejected (the libraries disagree on every infinite case); probabilities in [0, 1]."""
    v = layout.pred.matrix
    field = layout.pred.field
    bad = ~np.isfinite(v)
    if bad.any():
        raise issues_from_mask(
            bad,
            code="non_finite_value",
            field=field,
            limit=max_issues,
            describe=lambda p: (f"{field} must be finite, got {v[p]} at {layout.index(p)}", str(v[p])),
            index_of=layout.index,
            hint="torch, TF, optax and Keras each give a different NaN/inf pattern for infinite "
            "predictions: there is nothing to match; send a large finite value instead",
        )
    if not from_logits:
        outside = (v < 0) | (v > 1)
        if outside.any():
            raise issues_from_mask(
                outside,
                code="invalid_probabilities",
                field=field,
                limit=max_issues,
                describe=lambda p: (
                    f"probabilities must lie in [0, 1], got {v[p]} at {layout.index(p)}",
                    float(v[p]),
                ),
                index_of=layout.index,
                hint='unbounded scores belong in "logits"',
            )


def _label_matrix(labels: np.ndarray, layout: _Layout, warnings: list[LossWarning]) -> np.ndarray:
    """Labels laid out like the predictions' matrix, in their own dtype (shape and dtype checked)."""
    shape, given = layout.shape, tuple(int(n) for n in labels.shape)
    if given != shape:
        if given != (*shape, 1) and shape != (*given, 1):
            raise input_error(
                "shape_mismatch",
                f"The shape of labels (received {given}) should equal the shape of {layout.pred.field} "
                f"(received {shape}): one label in [0, 1] per prediction",
                field="labels",
                expected=list(shape),
                received=list(given),
                hint=_shape_hint(labels, layout),
            )
        warnings.append(
            LossWarning(
                "labels_squeezed",
                f"labels of shape {given} were reshaped to the predictions' shape {shape} (a trailing 1, "
                "Keras convention)",
                field="labels",
            )
        )
    if labels.dtype.kind not in "fiub":
        raise input_error(
            "invalid_labels", f"labels must be numbers, got dtype {labels.dtype}", field="labels"
        )
    return layout.matrix(labels.reshape(shape))


def _binary_labels(
    matrix: np.ndarray,
    given: tuple[int, ...],
    layout: _Layout,
    ignore_index: float | None,
    max_issues: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (:func:`_label_matrix`, ``given``: the shape they came in) as a float64 matrix (masked
    elements 0) and the not-masked mask."""
    shape = layout.shape
    values = matrix.astype(np.float64, copy=False)
    mask = np.ones(values.shape, dtype=bool) if ignore_index is None else values != ignore_index
    invalid = mask & ~((values >= 0) & (values <= 1))
    if invalid.any():

        def label_index(p: tuple[int, ...]) -> tuple[int, ...]:
            flat = np.ravel_multi_index(layout.index(p), shape)
            return tuple(int(i) for i in np.unravel_index(flat, given))

        negative = bool((values[invalid] < 0).any())
        raise issues_from_mask(
            invalid,
            code="invalid_labels",
            field="labels",
            limit=max_issues,
            describe=lambda p: (
                f"binary labels must lie in [0, 1] (hard 0/1 or soft), got {values[p]} at {label_index(p)}",
                float(values[p]),
            ),
            index_of=label_index,
            hint='a value that marks "not annotated" is masked by setting "ignore_index" to it (e.g. -1)'
            if negative and ignore_index is None
            else None,
        )
    return np.where(mask, values, 0.0), mask


def _shape_hint(labels: np.ndarray, layout: _Layout) -> str | None:
    """Class ids shaped like the predictions without their class axis belong to the sparse family."""
    if layout.elementwise:
        return None
    integral = labels.dtype.kind in "iu" or (
        labels.dtype.kind == "f" and bool(np.all(np.isfinite(labels) & (labels == np.round(labels))))
    )
    if labels.shape == layout.pred.example_shape and integral:
        return (
            "labels look like class ids, one per example: for single-label multi-class data send them "
            "to sparse_cross_entropy; binary_cross_entropy takes one label in [0, 1] per prediction "
            "(multi-hot rows for multi-label data)"
        )
    return None
