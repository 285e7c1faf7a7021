"""POST one route per loss family: read the body, evaluate (off the event loop when large), respond."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...config import Settings
from ...families import FAMILIES, Family
from ..body import Body, check_media_type, read_body
from ..evaluation import Answer, evaluate
from ..openapi import PROBLEM_RESPONSES, request_body
from ..schemas import CrossEntropyResponse

router = APIRouter(tags=["cross-entropy"])

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


def _endpoint(family: Family) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _respond(request, functools.partial(evaluate, family))

    endpoint.__name__ = family.name
    return endpoint


for _family in FAMILIES:
    router.add_api_route(
        _family.path,
        _endpoint(_family),
        methods=["POST"],
        operation_id=_family.name,
        summary=_family.summary,
        openapi_extra=request_body(_family.request),
        response_model=CrossEntropyResponse,
        responses=PROBLEM_RESPONSES,
    )
