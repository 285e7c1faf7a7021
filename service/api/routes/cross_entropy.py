"""POST /v1/cross-entropy/{sparse,categorical}: read the body, evaluate off the event loop, respond."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...config import Settings
from ..body import Body, check_media_type, read_body
from ..evaluation import Answer, categorical, sparse
from ..openapi import PROBLEM_RESPONSES, request_body
from ..schemas import (
    CategoricalCrossEntropyRequest,
    CrossEntropyResponse,
    SparseCrossEntropyRequest,
)

router = APIRouter(prefix="/v1/cross-entropy", tags=["cross-entropy"])

# Below this size parsing and math take microseconds: a thread hop would cost more than it saves.
INLINE_BODY_BYTES = 64 * 1024


async def _respond(request: Request, evaluate: Callable[[Body, Settings], Answer]) -> Response:
    settings: Settings = request.app.state.settings
    check_media_type(request)
    # No name of ours keeps the body alive.
    box = [await read_body(request, settings.max_body_bytes, settings.max_decompressed_bytes)]
    if len(box[0]) <= INLINE_BODY_BYTES:
        answer = evaluate(box[0], settings)
    else:
        answer = await run_in_threadpool(_evaluate_and_free, evaluate, box, settings)
    request.state.elements = answer.elements
    return Response(answer.body, media_type="application/json")


def _evaluate_and_free(
    evaluate: Callable[[Body, Settings], Answer], box: list[Body], settings: Settings
) -> Answer:
    """Evaluate the only reference to a large body, so it is freed here: unmapping 40 MB takes ~10 ms,
    which the event loop should not spend."""
    return evaluate(box.pop(), settings)


COMMON: dict[str, Any] = {
    "response_model": CrossEntropyResponse,
    "responses": PROBLEM_RESPONSES,
}


@router.post(
    "/sparse",
    operation_id="sparse_cross_entropy",
    summary="Softmax cross-entropy with integer class labels",
    openapi_extra=request_body(SparseCrossEntropyRequest),
    **COMMON,
)
async def sparse_cross_entropy(request: Request) -> Response:
    return await _respond(request, sparse)


@router.post(
    "/categorical",
    operation_id="categorical_cross_entropy",
    summary="Softmax cross-entropy with one-hot or soft label distributions",
    openapi_extra=request_body(CategoricalCrossEntropyRequest),
    **COMMON,
)
async def categorical_cross_entropy(request: Request) -> Response:
    return await _respond(request, categorical)
