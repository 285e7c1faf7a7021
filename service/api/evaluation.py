"""One cross-entropy request: parse → decode → call the core → serialise. Runs off the event loop."""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import orjson
from pydantic import ValidationError

from ..config import Settings
from ..losses import LossInputError, LossResult, categorical_cross_entropy, sparse_cross_entropy
from . import fast_json
from .body import Body
from .decoding import FLOAT_DTYPES, INT_DTYPES, decode
from .pointers import element_pointer, pointer
from .problems import ProblemError, item
from .request_errors import translate
from .schemas import (
    CategoricalCrossEntropyRequest,
    CrossEntropyOptions,
    SparseCrossEntropyRequest,
    Tensor,
)


class Answer(NamedTuple):
    body: bytes
    elements: int  # prediction elements evaluated, for the metrics


def sparse(body: Body, settings: Settings) -> Answer:
    request, arrays = _parse(SparseCrossEntropyRequest, body, sparse=True)
    assert isinstance(request, SparseCrossEntropyRequest)
    labels = decode(
        arrays.get("labels", request.labels),
        field="labels",
        integer=True,
        allowed=INT_DTYPES,
        max_elements=settings.max_elements,
    )
    return _run(request, arrays, labels, settings, sparse_cross_entropy, ignore_index=request.ignore_index)


def categorical(body: Body, settings: Settings) -> Answer:
    request, arrays = _parse(CategoricalCrossEntropyRequest, body, sparse=False)
    assert isinstance(request, CategoricalCrossEntropyRequest)
    labels = decode(
        arrays.get("labels", request.labels),
        field="labels",
        allowed=FLOAT_DTYPES + INT_DTYPES,
        max_elements=settings.max_elements,
    )
    return _run(request, arrays, labels, settings, categorical_cross_entropy)


def _parse(
    model: type[CrossEntropyOptions], body: Body, *, sparse: bool
) -> tuple[CrossEntropyOptions, fast_json.Decoded]:
    """The request, plus the arrays the fast path already decoded (none on the general path)."""
    fast = fast_json.parse(body, model, integer_labels=sparse)
    if fast is not None:
        return fast
    # Pydantic and json take bytes, not a mapping: the general path (problems, unusual bodies) copies it.
    text = bytes(body) if isinstance(body, mmap.mmap) else body
    try:
        return model.model_validate_json(text), {}
    except ValidationError as exc:
        raise translate(exc, text, sparse=sparse) from None


def _predictions(request: CrossEntropyOptions) -> tuple[str, Any]:
    given = [name for name in ("logits", "probabilities") if getattr(request, name) is not None]
    if len(given) != 1:
        where = pointer("probabilities") if given else pointer("logits")
        message = (
            "send exactly one of logits and probabilities, not both"
            if given
            else "logits (or probabilities) is required"
        )
        raise ProblemError(
            "invalid_field",
            message,
            errors=[item("invalid_field", where, message)],
            hint="logits are unnormalised scores; probabilities are softmax outputs",
        )
    return given[0], getattr(request, given[0])


def _run(
    request: CrossEntropyOptions,
    arrays: fast_json.Decoded,
    labels: np.ndarray,
    settings: Settings,
    loss: Callable[..., LossResult],
    **extra: Any,
) -> Answer:
    field, value = _predictions(request)
    predictions = decode(arrays.get(field, value), field=field, max_elements=settings.max_elements)
    sample_weight: float | np.ndarray | None = None
    if isinstance(request.sample_weight, float):
        sample_weight = request.sample_weight
    elif request.sample_weight is not None:
        sample_weight = decode(
            arrays.get("sample_weight", request.sample_weight),
            field="sample_weight",
            max_elements=settings.max_elements,
        )
    nested = {
        name: not isinstance(getattr(request, name, None), Tensor)
        for name in (field, "labels", "sample_weight", "class_weight")
    }
    try:
        result = loss(
            predictions,
            labels,
            from_logits=field == "logits",
            axis=request.axis,
            reduction=request.reduction,
            sample_weight=sample_weight,
            class_weight=request.class_weight,
            label_smoothing=request.label_smoothing,
            epsilon=request.epsilon,
            precision=request.precision,
            max_issues=settings.max_error_items,
            **extra,
        )
    except LossInputError as exc:
        raise _problem(exc, nested) from None
    return Answer(_serialise(result, request.per_example, nested), int(predictions.size))


def _problem(exc: LossInputError, nested: dict[str, bool]) -> ProblemError:
    items = [
        item(
            issue.code,
            element_pointer(issue.field, issue.index, nested=nested.get(issue.field, True)),
            issue.message,
            expected=issue.expected,
            received=issue.received,
            index=list(issue.index) if issue.index is not None else None,
        )
        for issue in exc.issues
    ]
    return ProblemError(exc.code, exc.message, errors=items, error_count=exc.count, hint=exc.hint)


def _serialise(result: LossResult, per_example: bool, nested: dict[str, bool]) -> bytes:
    body: dict[str, Any] = {"loss": result.loss, "reduction": result.reduction}
    if per_example:
        losses = result.losses
        body["losses"] = float(losses) if losses.ndim == 0 else losses
    body.update(
        shape=list(result.shape),
        num_classes=result.num_classes,
        count=result.count,
        weight_sum=result.weight_sum,
        nonzero_weight_count=result.nonzero_weight_count,
        loss_sum=result.loss_sum,
        precision=result.precision,
        warnings=[
            {
                "code": w.code,
                "message": w.message,
                "pointer": None
                if w.field is None
                else element_pointer(w.field, w.index, nested=nested.get(w.field, True)),
            }
            for w in result.warnings
        ],
    )
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
