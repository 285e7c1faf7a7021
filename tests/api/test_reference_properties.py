"""Random requests over HTTP agree with the float64 reference; the contract's invariants hold."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference.compare import (
    Evaluate,
    assert_combinable,
    assert_matches_reference,
    assert_reduced,
    expected_precision,
    statistics,
)
from reference.numpy_reference import REDUCTIONS, from_request
from reference.tensor import tensor

# Strictly positive weights stay well above underflow, so "non-zero" means the same in float32.
WEIGHTS = st.one_of(st.just(0.0), st.floats(1e-3, 3.0))
LOGITS = st.floats(-30.0, 30.0)
PROBABILITIES = st.one_of(st.just(0.0), st.floats(1e-6, 1.0))
PRECISIONS = (None, "float64", "float32")
TENSOR_DTYPES = ("float16", "bfloat16", "float32", "float64")


@dataclasses.dataclass(frozen=True)
class Case:
    """One request, kept as arrays so it can be shifted, split and re-encoded."""

    endpoint: str
    predictions: npt.NDArray[np.float64]
    labels: npt.NDArray[Any]
    class_axis: int  # non-negative position of the class axis in `predictions`
    axis: int | None  # as sent: `class_axis`, its negative twin, or None for the default -1
    from_logits: bool
    sample_weight: float | npt.NDArray[np.float64] | None
    options: dict[str, Any]
    dtype: str | None = None  # predictions sent as a Tensor of this dtype, else nested JSON

    @property
    def per_example_shape(self) -> tuple[int, ...]:
        shape = self.predictions.shape
        return shape[: self.class_axis] + shape[self.class_axis + 1 :]

    def body(self, **overrides: Any) -> dict[str, Any]:
        if self.dtype is not None:
            # Half-precision targets would not sum to 1 closely enough to be valid distributions.
            target_dtype = "float64" if self.dtype == "float64" else "float32"
            predictions: Any = tensor(self.predictions, self.dtype)
            labels: Any = tensor(self.labels, "int32" if self.endpoint == "sparse" else target_dtype)
        else:
            predictions, labels = self.predictions.tolist(), self.labels.tolist()
        body = {
            "logits" if self.from_logits else "probabilities": predictions,
            "labels": labels,
            **({} if self.axis is None else {"axis": self.axis}),
            **self.options,
            **overrides,
        }
        if isinstance(self.sample_weight, np.ndarray) and self.dtype is not None:
            # A Tensor keeps zero-length axes that nested JSON lists cannot express.
            body["sample_weight"] = tensor(self.sample_weight, "float64")
        elif self.sample_weight is not None:
            body["sample_weight"] = np.asarray(self.sample_weight).tolist()
        return body


def _without_zero_rows(array: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    """An all-zero row is invalid (probabilities) or undefined (targets): make it one-hot."""
    rows = np.moveaxis(array.copy(), axis, -1)
    rows[rows.sum(axis=-1) == 0, 0] = 1.0
    return np.moveaxis(rows, -1, axis)


@st.composite
def _sample_weight(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """None, a scalar, or an array NumPy broadcasts to `shape` (leading dims dropped, dims → 1)."""
    kind = draw(st.sampled_from(["none", "scalar", "array"]))
    if kind == "none":
        return None
    if kind == "scalar" or not shape:
        return draw(WEIGHTS)
    kept = shape[draw(st.integers(0, len(shape) - 1)) :]
    weight_shape = tuple(d if draw(st.booleans()) else 1 for d in kept)
    return draw(hnp.arrays(np.float64, weight_shape, elements=WEIGHTS))


@st.composite
def cases(draw: st.DrawFn, *, logits_only: bool = False, tensors: bool = False) -> Case:
    endpoint = draw(st.sampled_from(["sparse", "categorical"]))
    rank = draw(st.integers(1, 4))
    class_axis = draw(st.integers(0, rank - 1))
    num_classes = draw(st.integers(1, 5))
    per_example = draw(st.lists(st.integers(1, 3), min_size=rank - 1, max_size=rank - 1))
    if tensors and per_example and draw(st.integers(0, 7)) == 0:
        per_example[draw(st.integers(0, len(per_example) - 1))] = 0  # an empty batch
    per_example = tuple(per_example)
    shape = (*per_example[:class_axis], num_classes, *per_example[class_axis:])
    from_logits = logits_only or draw(st.booleans())
    if from_logits:
        predictions = draw(hnp.arrays(np.float64, shape, elements=LOGITS))
    else:
        predictions = draw(hnp.arrays(np.float64, shape, elements=PROBABILITIES))
        predictions = _without_zero_rows(predictions, class_axis)

    smoothing = draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
    # With sparse smoothing a zero weight for the target class still leaves the uniform term,
    # a case the contract leaves open (losses "exactly 0" vs torch's formula): not generated.
    class_weights = st.floats(1e-3, 3.0) if endpoint == "sparse" and smoothing else WEIGHTS
    options: dict[str, Any] = {
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        "label_smoothing": smoothing,
        "precision": draw(st.sampled_from(PRECISIONS)),
    }
    if draw(st.booleans()):
        options["class_weight"] = draw(st.lists(class_weights, min_size=num_classes, max_size=num_classes))
    if not from_logits and draw(st.booleans()):
        options["epsilon"] = draw(st.floats(1e-12, 0.49))
    if draw(st.booleans()):
        options["per_example"] = draw(st.booleans())

    if endpoint == "sparse":
        labels = draw(hnp.arrays(np.int64, per_example, elements=st.integers(0, num_classes - 1)))
        ignore = draw(st.one_of(st.none(), st.sampled_from([-100, -1, 255]), st.integers(0, num_classes - 1)))
        if ignore is not None:
            options["ignore_index"] = ignore
            labels[draw(hnp.arrays(np.bool_, per_example))] = ignore
        if draw(st.integers(0, 4)) == 0:  # Keras-style trailing unit axis, squeezed by the service
            labels = labels[..., np.newaxis]
    elif draw(st.booleans()):
        hot = draw(hnp.arrays(np.int64, per_example, elements=st.integers(0, num_classes - 1)))
        labels = np.moveaxis(np.eye(num_classes)[hot], -1, class_axis)
    else:
        labels = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
        labels = _without_zero_rows(labels, class_axis)
        labels = labels / labels.sum(axis=class_axis, keepdims=True)

    if options["precision"] == "float32":
        # Logits the service must round to float32 would shift a loss by ~|z|·6e-8 absolute,
        # which the float32 tolerance is not meant to absorb.
        predictions = predictions.astype(np.float32).astype(np.float64)
    axes = [class_axis, class_axis - rank, *([None] if class_axis == rank - 1 else [])]
    return Case(
        endpoint=endpoint,
        predictions=predictions,
        labels=labels,
        class_axis=class_axis,
        axis=draw(st.sampled_from(axes)),
        from_logits=from_logits,
        sample_weight=draw(_sample_weight(per_example)),
        options=options,
        dtype=draw(st.sampled_from(TENSOR_DTYPES)) if tensors else None,
    )


@st.composite
def masked_cases(draw: st.DrawFn) -> Case:
    """−inf logits on one class that no counted example targets: masked, so losses stay finite."""
    case = draw(cases(logits_only=True, tensors=True))
    num_classes = case.predictions.shape[case.class_axis]
    assume(num_classes >= 2)
    masked = draw(st.integers(0, num_classes - 1))
    logits = np.moveaxis(case.predictions.copy(), case.class_axis, -1)
    logits[draw(hnp.arrays(np.bool_, case.per_example_shape)), masked] = -np.inf
    if case.endpoint == "sparse":
        labels = case.labels.copy()
        # An ignored label may still name the masked class: ignored rows count for nothing.
        if case.options.get("ignore_index") != masked:
            labels[labels == masked] = (masked + 1) % num_classes
    else:
        targets = np.moveaxis(case.labels.copy(), case.class_axis, -1)
        targets[..., masked] = 0.0
        targets[targets.sum(axis=-1) == 0, (masked + 1) % num_classes] = 1.0
        labels = np.moveaxis(targets / targets.sum(axis=-1, keepdims=True), -1, case.class_axis)
    # Smoothing gives every class target mass, so a masked class would make the loss infinite.
    return dataclasses.replace(
        case,
        predictions=np.moveaxis(logits, -1, case.class_axis),
        labels=labels,
        options={**case.options, "label_smoothing": 0.0},
    )


def _check_against_reference(evaluate: Evaluate, case: Case) -> None:
    body = case.body()
    response = evaluate(case.endpoint, body)
    reference = from_request(case.endpoint, body)
    assert_matches_reference(response, reference, body["reduction"], expected_precision(body))
    if body.get("per_example") is False:
        assert "losses" not in response


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_json_response_equals_reference(evaluate: Evaluate, case: Case) -> None:
    _check_against_reference(evaluate, case)


@settings(max_examples=60, deadline=None)
@given(case=cases(tensors=True))
def test_tensor_response_equals_reference(evaluate: Evaluate, case: Case) -> None:
    _check_against_reference(evaluate, case)


@settings(max_examples=50, deadline=None)
@given(case=masked_cases())
def test_masked_classes_response_equals_reference(evaluate: Evaluate, case: Case) -> None:
    _check_against_reference(evaluate, case)


@settings(max_examples=50, deadline=None)
@given(case=cases(logits_only=True), data=st.data())
def test_adding_a_constant_per_row_leaves_the_loss_unchanged(
    evaluate: Evaluate, case: Case, data: st.DataObject
) -> None:
    shift = data.draw(hnp.arrays(np.float64, case.per_example_shape, elements=st.floats(-50, 50)))
    shifted = dataclasses.replace(case, predictions=case.predictions + np.expand_dims(shift, case.class_axis))
    body = {"reduction": "sum", "per_example": True, "precision": "float64"}
    original = evaluate(case.endpoint, case.body(**body))
    moved = evaluate(case.endpoint, shifted.body(**body))
    # Shifting rounds each logit once: about 1e-14 absolute on |z| ≤ 80, far inside the tolerance.
    assert moved["loss_sum"] == pytest.approx(original["loss_sum"], rel=1e-9, abs=1e-9)
    assert np.asarray(moved["losses"]) == pytest.approx(np.asarray(original["losses"]), rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(case=cases())
def test_reductions_are_views_of_the_same_statistics(evaluate: Evaluate, case: Case) -> None:
    responses = {r: evaluate(case.endpoint, case.body(reduction=r, per_example=True)) for r in REDUCTIONS}
    first = responses["none"]
    for response in responses.values():
        assert statistics(response) == statistics(first)
        assert_reduced(response["loss"], response["reduction"], statistics(first))
    total = math.fsum(np.ravel(first["losses"]))
    assert total == pytest.approx(first["loss_sum"], rel=1e-12, abs=1e-300)


def _take(array: npt.NDArray[Any], axis: int, part: slice) -> npt.NDArray[Any]:
    index: list[slice] = [slice(None)] * array.ndim
    index[axis] = part
    return array[tuple(index)]


def _weight_part(case: Case, axis: int, part: slice) -> Any:
    weight = case.sample_weight
    if not isinstance(weight, np.ndarray):
        return weight
    # Weights align from the right; one missing or of size 1 on the cut axis serves both halves.
    weight_axis = axis - (len(case.per_example_shape) - weight.ndim)
    if weight_axis < 0 or weight.shape[weight_axis] == 1:
        return weight
    return _take(weight, weight_axis, part)


def _split(case: Case, axis: int, at: int) -> list[Case]:
    """`case` cut along per-example axis `axis` before index `at`."""
    prediction_axis = axis if axis < case.class_axis else axis + 1
    label_axis = axis if case.endpoint == "sparse" else prediction_axis
    return [
        dataclasses.replace(
            case,
            predictions=_take(case.predictions, prediction_axis, part),
            labels=_take(case.labels, label_axis, part),
            sample_weight=_weight_part(case, axis, part),
        )
        for part in (slice(None, at), slice(at, None))
    ]


@settings(max_examples=50, deadline=None)
@given(case=cases(), data=st.data())
def test_two_requests_combine_into_their_concatenation(
    evaluate: Evaluate, case: Case, data: st.DataObject
) -> None:
    splittable = [a for a, n in enumerate(case.per_example_shape) if n >= 2]
    assume(splittable)
    axis = data.draw(st.sampled_from(splittable))
    at = data.draw(st.integers(1, case.per_example_shape[axis] - 1))
    parts = [evaluate(case.endpoint, part.body()) for part in _split(case, axis, at)]
    assert_combinable(parts, evaluate(case.endpoint, case.body()))
