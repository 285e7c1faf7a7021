"""Pydantic validation errors rephrased as problems that point at the offending field or element."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..families import Family, with_paths
from ..losses import LossInputError
from .decoding import diagnose_nested
from .pointers import element_pointer, pointer
from .problems import ProblemError, clip, item
from .schemas import NESTED_MAX_RANK, TENSOR_MAX_RANK, Tensor

# Names users bring from TensorFlow, Keras and PyTorch, and the field that does that job here.
LIBRARY_NAMES: dict[str, str] = {
    "from_logits": 'send logits as "logits" or probabilities as "probabilities"; there is no '
    "from_logits flag",
    "y_true": 'the targets go in "labels"',
    "y_pred": 'the predictions go in "logits" (or "probabilities" when from_logits=False)',
    "target": 'the targets go in "labels"',
    "targets": 'the targets go in "labels"',
    "onehot_labels": 'the targets go in "labels"',
    "input": 'the predictions go in "logits"',
    "weight": 'per-class weights (torch weight=) go in "class_weight"',
    "weights": 'per-example weights (TF weights=) go in "sample_weight"',
    "ignore_class": 'the ignored label value (Keras ignore_class) goes in "ignore_index"',
    "size_average": 'use "reduction"',
    "reduce": 'use "reduction"',
}


def translate(exc: ValidationError, body: bytes | bytearray, family: Family) -> ProblemError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return ProblemError(
            "invalid_json",
            f"The request body is not valid JSON: {clip(first['msg'], 100)}",
            errors=[item("invalid_json", "", clip(first["msg"], 100))],
            hint="send one JSON object; NaN, Infinity and -Infinity are accepted as numbers",
        )
    if not first["loc"]:
        return ProblemError(
            "invalid_field",
            "The request body must be a JSON object",
            errors=[
                item(
                    "invalid_field",
                    "",
                    "expected an object",
                    received=_json_type(first.get("input")),
                )
            ],
        )
    items: list[dict[str, Any]] = []
    problems: list[ProblemError] = []
    seen_arrays: set[str] = set()
    for error in errors:
        loc = error["loc"]
        field = str(loc[0])
        kind = family.arrays.get(field)
        # Bulk arrays' errors are diagnosed from the value itself: one precise message instead of one
        # complaint per union member.
        if kind is not None and kind.bulk and error["type"] != "missing":
            if field not in seen_arrays:
                seen_arrays.add(field)
                problems.append(_diagnose_array(body, field, integer=kind.integer))
            continue
        items.append(error_item(error))
    for problem in problems:
        items[:0] = problem.errors
    head = problems[0] if problems else None
    code = head.code if head else items[0]["code"]
    detail = head.detail if head else error_detail(items)
    hints = [h for h in (head.hint if head else None, _hint(errors, family)) if h]
    return ProblemError(code, detail, errors=items, error_count=len(items), hint="; ".join(hints) or None)


def error_item(error: Any) -> dict[str, Any]:
    loc = error["loc"]
    where = pointer(*loc)
    if error["type"] == "extra_forbidden":
        return item("invalid_field", where, "unknown field: not part of this endpoint's request body")
    received = error.get("input")
    short = clip(json.dumps(received), 40) if isinstance(received, str | int | float | bool) else None
    return item("invalid_field", where, error["msg"], received=short)


def error_detail(items: list[dict[str, Any]]) -> str:
    first = items[0]
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return clip(f"{first['pointer'] or 'body'}: {first['message']}{more}")


def _hint(errors: list[Any], family: Family) -> str | None:
    for error in errors:
        name = str(error["loc"][-1]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            if name in family.unknown_field_hints:
                return with_paths(family.unknown_field_hints[name])
            if name in LIBRARY_NAMES:
                return f"unknown field {name!r}: {LIBRARY_NAMES[name]}"
        if error["type"] == "literal_error" and name == "reduction":
            return (
                "torch 'mean' → mean; Keras default → sum_over_batch_size; TF v1 default "
                "(SUM_BY_NONZERO_WEIGHTS) → sum_by_nonzero_weights; 'sum' and 'none' as they are"
            )
    return None


def _diagnose_array(body: bytes | bytearray, field: str, *, integer: bool) -> ProblemError:
    value = json.loads(body)[field]
    if isinstance(value, dict):
        try:
            Tensor.model_validate(value, strict=True)
        except ValidationError as tensor_error:
            items = [
                item("invalid_field", pointer(field, *e["loc"]), e["msg"])
                for e in tensor_error.errors(include_url=False)
            ]
            too_deep = any(e["loc"] == ("shape",) and e["type"] == "too_long" for e in tensor_error.errors())
            return ProblemError(
                "invalid_field",
                f"{field} is not a valid Tensor: {items[0]['pointer']}: {items[0]['message']}",
                errors=items,
                hint=f"a Tensor's shape has at most {TENSOR_MAX_RANK} dimensions (nested arrays: rank 1 to "
                f"{NESTED_MAX_RANK})"
                if too_deep
                else 'a Tensor is {"dtype": ..., "shape": [...], "data": "<base64>"}',
            )
    return diagnose_nested(value, field=field, integer=integer)


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )


# Where a field's element is in the request: (field, index or None) → JSON Pointer.
Locate = Callable[[str, tuple[int, ...] | None], str]


def nested_locator(nested: dict[str, bool]) -> Locate:
    """Pointers into a JSON body: into nested arrays they descend, a Tensor's stops at the field."""

    def locate(field: str, index: tuple[int, ...] | None) -> str:
        return element_pointer(field, index, nested=nested.get(field, True))

    return locate


def problem_from(exc: LossInputError, locate: Locate) -> ProblemError:
    """The core's error as a problem whose pointers ``locate`` finds in the request; function names in
    hints become paths."""
    items = [
        item(
            issue.code,
            locate(issue.field, issue.index),
            issue.message,
            expected=issue.expected,
            received=issue.received,
            index=list(issue.index) if issue.index is not None else None,
        )
        for issue in exc.issues
    ]
    hint = with_paths(exc.hint) if exc.hint else None
    return ProblemError(exc.code, exc.message, errors=items, error_count=exc.count, hint=hint)
