"""One V2 inference: unframe → inputs and parameters → the family's core function → output tensors."""

from __future__ import annotations

from typing import Any

import orjson

from ...config import Settings
from ...families import Family
from ...losses import LossInputError
from ..body import Body
from ..evaluation import Answer, compute, warning_items
from ..request_errors import problem_from
from . import framing, inputs, outputs
from .framing import Output
from .schemas import InferenceRequest

VERSION = "1"


def infer(family: Family, header_length: str | None, body: Body, settings: Settings) -> Answer:
    framed = framing.unframe(body, header_length, max_elements=settings.max_elements)
    wanted = _wanted(framed.header)
    request = inputs.read(framed, family, max_elements=settings.max_elements)
    try:
        result = compute(family, request.parsed, max_issues=settings.max_error_items)
    except LossInputError as exc:
        raise problem_from(exc, request.locate) from None
    available = {
        tensor.name: tensor
        for tensor in outputs.tensors(result, per_example=request.parsed.options["per_example"])
    }
    asked = (
        wanted if wanted is not None else [(name, _binary_by_default(framed.header)) for name in available]
    )
    chosen = [
        Output(tensor.name, tensor.datatype, tensor.array, binary)
        for name, binary in asked
        if (tensor := available.get(name)) is not None
    ]
    header: dict[str, Any] = {"model_name": family.name, "model_version": VERSION}
    if framed.header.id is not None:
        header["id"] = framed.header.id
    header["parameters"] = {
        "warnings": orjson.dumps(warning_items(result.warnings, request.locate)).decode(),
        # What /v1 answers beside the numbers, for clients that combine requests (the evaluator).
        "reduction": result.reduction,
        "precision": result.precision,
        "num_classes": result.num_classes,
        "shape": orjson.dumps(result.shape).decode(),
    }
    body_bytes, media_type, headers = framing.frame(header, chosen)
    return Answer(body_bytes, request.parsed.elements, media_type, headers)


def _binary_by_default(header: InferenceRequest) -> bool:
    return (header.parameters or {}).get("binary_data_output") is True


def _wanted(header: InferenceRequest) -> list[tuple[str, bool]] | None:
    """The outputs asked for, in order, each with whether it goes binary; ``None``: all that have a value."""
    if header.outputs is None:
        return None
    outputs.check_requested([output.name for output in header.outputs])
    default = _binary_by_default(header)
    return [
        (
            output.name,
            default
            if output.parameters is None or output.parameters.binary_data is None
            else output.parameters.binary_data,
        )
        for output in header.outputs
    ]
