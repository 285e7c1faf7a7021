"""One loss request: parse → call the family's core function → serialise. Runs off the event loop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from ..config import Settings
from ..families import Family
from ..losses import STATISTICS, LossInputError, LossResult, LossWarning
from ..losses.metrics import metric_json
from .body import Body
from .parsing import Parsed, parse
from .request_errors import Locate, nested_locator, problem_from

# Request options that shape the response, not the computation.
RESPONSE_OPTIONS = ("per_example",)


class Answer(NamedTuple):
    body: bytes
    elements: int  # prediction elements evaluated, for the metrics
    media_type: str = "application/json"
    headers: dict[str, str] | None = None


def evaluate(family: Family, body: Body, settings: Settings) -> Answer:
    parsed = parse(body, family, max_elements=settings.max_elements)
    try:
        result = compute(family, parsed, max_issues=settings.max_error_items)
    except LossInputError as exc:
        raise problem_from(exc, nested_locator(parsed.nested)) from None
    return Answer(_serialise(result, parsed), parsed.elements)


def compute(family: Family, parsed: Parsed, *, max_issues: int) -> LossResult:
    """The family's core function on the parsed request: arrays and options pass by field name."""
    arrays = dict(parsed.arrays)
    predictions = arrays.pop(parsed.predictions)
    labels = arrays.pop("labels")
    options = {k: v for k, v in parsed.options.items() if k not in RESPONSE_OPTIONS}
    return family.compute(
        predictions,
        labels,
        from_logits=parsed.predictions == "logits",
        max_issues=max_issues,
        **options,
        **arrays,
    )


def _serialise(result: LossResult, parsed: Parsed) -> bytes:
    body: dict[str, Any] = {"loss": result.loss, "reduction": result.reduction}
    if parsed.options["per_example"]:
        losses = result.losses
        body["losses"] = float(losses) if losses.ndim == 0 else losses
    body.update(shape=list(result.shape), num_classes=result.num_classes)
    body.update((name, result.statistics[name]) for name in STATISTICS)
    body.update(
        precision=result.precision,
        warnings=warning_items(result.warnings, nested_locator(parsed.nested)),
    )
    if result.metrics:
        body["metrics"] = {name: metric_json(m.value, m.statistics) for name, m in result.metrics.items()}
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def warning_items(warnings: Iterable[LossWarning], locate: Locate) -> list[dict[str, Any]]:
    return [
        {
            "code": w.code,
            "message": w.message,
            "pointer": None if w.field is None else locate(w.field, w.index),
        }
        for w in warnings
    ]
