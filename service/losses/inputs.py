"""Validation and layout of the core's inputs: predictions, labels, sample and class weights.

Every check names the input and the element involved (an index into the array as the caller gave it),
so a caller can point at the exact number that is wrong.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import Issue, LossInputError, LossWarning, issues_from_mask
from .result import REDUCTIONS

DEFAULT_MAX_ISSUES = 20
# Rows of probabilities (and soft labels) must sum to 1 within this much.
SUM_TOLERANCE = 1e-3
# The ranges of the numeric options, in Pydantic's ``Field`` vocabulary; the request schemas use them too.
OPTION_BOUNDS: dict[str, dict[str, float]] = {
    "label_smoothing": {"ge": 0.0, "le": 1.0},
    "epsilon": {"gt": 0.0, "lt": 0.5},
    "focal_gamma": {"ge": 0.0},
    "focal_alpha": {"ge": 0.0, "le": 1.0},
    "top_k": {"ge": 1},
    "calibration_bins": {"ge": 1, "le": 1000},
    "threshold": {"gt": 0.0, "lt": 1.0},
}
INTEGER_OPTIONS = ("top_k", "calibration_bins")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "ge": operator.ge,
    "gt": operator.gt,
    "le": operator.le,
    "lt": operator.lt,
}


@dataclass(frozen=True)
class Predictions:
    """Predictions as a ``(rows, classes)`` matrix in the compute dtype, plus the way back to the original."""

    matrix: np.ndarray
    example_shape: tuple[int, ...]
    axis: int
    field: str
    dtype: np.dtype

    @property
    def num_classes(self) -> int:
        return int(self.matrix.shape[1])

    def element_index(self, row: int, cls: int) -> tuple[int, ...]:
        """Index into the original predictions of class ``cls`` of example ``row``."""
        example = np.unravel_index(row, self.example_shape) if self.example_shape else ()
        index = [int(i) for i in example]
        index.insert(self.axis, cls)
        return tuple(index)

    def row_text(self, row: int) -> str:
        """How a user would write the row in NumPy, e.g. ``logits[1, :, 3]``."""
        parts = [str(i) for i in self.element_index(row, 0)]
        parts[self.axis] = ":"
        return f"{self.field}[{', '.join(parts)}]"


def input_error(
    code: str, message: str, *, field: str, hint: str | None = None, **kw: object
) -> LossInputError:
    """An error with one issue that repeats its message (one offending input, no element list)."""
    issue = Issue(code=code, field=field, message=message, **kw)  # type: ignore[arg-type]
    return LossInputError(code=code, message=message, issues=[issue], hint=hint)


def compute_dtype(array: np.ndarray, precision: str | None) -> np.dtype:
    """float64 or float32: the requested precision, else the input's (half precision upcast to float32)."""
    if precision is not None:
        if precision not in ("float32", "float64"):
            raise input_error(
                "invalid_field",
                f"precision must be 'float32', 'float64' or null, not {precision!r}",
                field="precision",
            )
        return np.dtype(precision)
    return np.dtype(np.float64) if array.dtype == np.float64 else np.dtype(np.float32)


def prepare_predictions(
    predictions: np.ndarray, *, field: str, axis: int, precision: str | None
) -> Predictions:
    """Move the class axis last and flatten to ``(rows, classes)`` in the compute dtype."""
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise input_error("invalid_field", f"axis must be an integer, not {axis!r}", field="axis")
    if predictions.dtype.kind != "f":
        raise input_error(
            "invalid_field",
            f"{field} must hold floating-point numbers, got dtype {predictions.dtype}",
            field=field,
        )
    rank = predictions.ndim
    if rank == 0:
        raise input_error(
            "shape_mismatch",
            f"{field} cannot be a scalar: it needs a class axis",
            field=field,
            expected="rank >= 1",
            received=[],
        )
    if not -rank <= axis < rank:
        raise input_error(
            "invalid_field",
            f"axis {axis} is out of range for {field} of rank {rank} (valid: {-rank} to {rank - 1})",
            field="axis",
            expected=[-rank, rank - 1],
            received=axis,
        )
    axis = int(axis) % rank
    classes = predictions.shape[axis]
    if classes == 0:
        raise input_error(
            "shape_mismatch",
            f"{field} must have at least one class, got shape "
            f"{tuple(predictions.shape)} with {classes} classes on axis {axis}",
            field=field,
            received=list(predictions.shape),
        )
    dtype = compute_dtype(predictions, precision)
    moved = predictions if axis == rank - 1 else np.moveaxis(predictions, axis, -1)
    example_shape = tuple(int(n) for n in moved.shape[:-1])
    matrix = np.ascontiguousarray(moved.reshape(-1, classes), dtype=dtype)
    return Predictions(matrix=matrix, example_shape=example_shape, axis=axis, field=field, dtype=dtype)


def _reshape_hint(
    labels_shape: tuple[int, ...], pred: Predictions, pred_shape: tuple[int, ...]
) -> str | None:
    """Suggest the change that would make sparse labels fit the predictions."""
    target = pred.example_shape
    if labels_shape == pred_shape and pred.num_classes > 1:
        return (
            "labels have the same shape as the predictions, as one-hot or soft labels do: send them to "
            "categorical_cross_entropy, or send class ids of shape "
            f"{_fmt(target)}"
        )
    rank = len(pred_shape)
    for other in range(rank):
        if other != pred.axis and pred_shape[other] > 1:
            shape_without = pred_shape[:other] + pred_shape[other + 1 :]
            if shape_without == labels_shape:
                return f'labels fit if the class axis is {other}: set "axis": {other}' + (
                    " (PyTorch's (N, C, d1, ...) layout)" if other == 1 else ""
                )
    size = math.prod(target)
    if math.prod(labels_shape) == size and labels_shape != target:
        return f"labels have the right number of elements: reshape them to {_fmt(target)}"
    if len(labels_shape) == 1 and labels_shape[0] == pred.num_classes and size == 1:
        return (
            f"labels hold {labels_shape[0]} values, as many as there are classes: if they are a "
            "one-hot or soft label row, send it to categorical_cross_entropy as labels of shape "
            f"{_fmt(pred_shape)}; if these are {labels_shape[0]} class ids, the predictions need shape "
            f"({labels_shape[0]}, C)"
        )
    return None


def _axis_text(axis: int, rank: int) -> str:
    return "last dimension" if axis == rank - 1 else f"class axis {axis}"


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def sparse_labels(
    labels: np.ndarray,
    pred: Predictions,
    pred_shape: tuple[int, ...],
    *,
    ignore_index: int | None,
    max_issues: int,
    warnings: list[LossWarning],
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate integer labels; return ``(labels per row, counted mask per row, squeezed?)``."""
    shape = tuple(int(n) for n in labels.shape)
    target = pred.example_shape
    squeezed = False
    if shape != target:
        if shape == (*target, 1):
            squeezed = True
            labels = labels.reshape(target)
            warnings.append(
                LossWarning(
                    "labels_squeezed",
                    f"labels of shape {_fmt(shape)} were squeezed to {_fmt(target)} (Keras convention)",
                    field="labels",
                )
            )
        else:
            raise input_error(
                "shape_mismatch",
                f"The shape of labels (received {_fmt(shape)}) should equal the shape of {pred.field} "
                f"except for the {_axis_text(pred.axis, len(pred_shape))} (received {_fmt(pred_shape)}), "
                f"that is {_fmt(target)}.",
                field="labels",
                expected=list(target),
                received=list(shape),
                hint=_reshape_hint(shape, pred, pred_shape),
            )
    if labels.dtype.kind not in "iu":
        raise input_error(
            "label_not_integer",
            f"labels must be integer class ids, got dtype {labels.dtype}",
            field="labels",
            hint="sparse labels are class ids; one-hot or soft labels go to categorical_cross_entropy",
        )
    flat = labels.reshape(-1).astype(np.int64, copy=False)
    counted = np.ones(flat.shape, dtype=bool) if ignore_index is None else flat != ignore_index
    classes = pred.num_classes
    out_of_range = counted & ((flat < 0) | (flat >= classes))
    if out_of_range.any():
        hint = None
        if ignore_index is None and bool((flat[out_of_range] < 0).any()):
            hint = 'if negative labels mark padding, set "ignore_index" to that value (e.g. -100)'

        def describe(position: tuple[int, ...]) -> tuple[str, Any]:
            value = int(labels[position])
            return (
                f"Received a label value of {value} which is outside the valid range of [0, {classes}).",
                value,
            )

        raise issues_from_mask(
            out_of_range.reshape(target),
            code="label_out_of_range",
            field="labels",
            describe=describe,
            limit=max_issues,
            index_of=(lambda p: (*p, 0)) if squeezed else None,
            hint=hint,
        )
    return flat, counted, squeezed


def _check_finite_nonnegative(array: np.ndarray, *, field: str, max_issues: int) -> None:
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        raise issues_from_mask(
            bad,
            code="invalid_weight",
            field=field,
            limit=max_issues,
            describe=lambda p: (
                f"{field} must be finite and >= 0, got {float(array[p])}",
                float(array[p]),
            ),
        )


def sample_weights(
    sample_weight: np.ndarray | float | None,
    example_shape: tuple[int, ...],
    *,
    max_issues: int,
    warnings: list[LossWarning],
) -> np.ndarray:
    """Per-row sample weights (float64), broadcast with NumPy rules to the per-example shape."""
    rows = math.prod(example_shape)
    if sample_weight is None:
        return np.ones(rows, dtype=np.float64)
    weights = np.asarray(sample_weight, dtype=np.float64)
    _check_finite_nonnegative(weights, field="sample_weight", max_issues=max_issues)
    shape = tuple(int(n) for n in weights.shape)
    if shape == (*example_shape, 1) and example_shape:
        weights = weights.reshape(example_shape)
        warnings.append(
            LossWarning(
                "sample_weight_squeezed",
                f"sample_weight of shape {_fmt(shape)} was squeezed to the per-example shape "
                f"{_fmt(example_shape)}",
                field="sample_weight",
            )
        )
    try:
        fits = np.broadcast_shapes(weights.shape, example_shape) == example_shape
    except ValueError:
        fits = False
    if not fits:
        hint = "sample_weight broadcasts with NumPy rules (trailing axes aligned) to the per-example shape"
        if len(shape) == 1 and len(example_shape) >= 2 and shape[0] == example_shape[0]:
            per_sequence = (example_shape[0],) + (1,) * (len(example_shape) - 1)
            hint = f"a weight per sequence needs shape {_fmt(per_sequence)} to broadcast over " + _fmt(
                example_shape
            )
        raise input_error(
            "invalid_weight",
            f"sample_weight of shape {_fmt(shape)} does not broadcast to the per-example shape "
            f"{_fmt(example_shape)}",
            field="sample_weight",
            expected=list(example_shape),
            received=list(shape),
            hint=hint,
        )
    return np.broadcast_to(weights, example_shape).reshape(rows)


def class_weights(class_weight: np.ndarray | None, classes: int, *, max_issues: int) -> np.ndarray | None:
    """Validate the ``(classes,)`` class weights."""
    return per_class_weights(class_weight, classes, field="class_weight", max_issues=max_issues)


def per_class_weights(
    values: np.ndarray | None,
    size: int,
    *,
    field: str,
    max_issues: int,
    what: str = "class",
    broadcast_one: bool = False,
) -> np.ndarray | None:
    """Validate a vector of ``size`` weights >= 0, one per class (or label) — ``class_weight``,
    ``pos_weight``. With ``broadcast_one`` a single weight is accepted too and applies to all."""
    if values is None:
        return None
    weights = np.asarray(values, dtype=np.float64)
    if weights.shape != (size,) and not (broadcast_one and weights.shape == (1,)):
        raise input_error(
            "invalid_weight",
            f"{field} needs one weight per {what}: {size} expected, got shape {_fmt(weights.shape)}",
            field=field,
            expected=[size],
            received=list(weights.shape),
        )
    _check_finite_nonnegative(weights, field=field, max_issues=max_issues)
    return weights


def check_common_options(*, reduction: str, **options: float | None) -> None:
    """The reduction's name and each numeric option (``None``: not given) within its :data:`OPTION_BOUNDS`
    (integer options, ``top_k`` and ``calibration_bins``, must be integers)."""
    # Each message is written only when its check fails: this runs on every request.
    if reduction not in REDUCTIONS:
        message = f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}"
        raise input_error("invalid_field", message, field="reduction")
    for name, value in options.items():
        if value is None:
            continue
        bounds = OPTION_BOUNDS[name]
        if name in INTEGER_OPTIONS and (not isinstance(value, int | np.integer) or isinstance(value, bool)):
            raise input_error("invalid_field", f"{name} must be an integer, got {value!r}", field=name)
        if not all(_COMPARISONS[op](value, bound) for op, bound in bounds.items()):
            message = f"{name} must be in {interval_text(bounds)}, got {value}"
            raise input_error("invalid_field", message, field=name)


def interval_text(bounds: dict[str, float]) -> str:
    """``{"ge": 0, "lt": 0.5}`` as ``[0, 0.5)``."""
    low = f"[{bounds['ge']:g}" if "ge" in bounds else f"({bounds['gt']:g}" if "gt" in bounds else "(-inf"
    high = f"{bounds['le']:g}]" if "le" in bounds else f"{bounds['lt']:g})" if "lt" in bounds else "inf)"
    return f"{low}, {high}"
