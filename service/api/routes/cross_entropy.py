"""POST one route per loss family: read the body, evaluate (off the event loop when large), respond."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...families import FAMILIES, Family
from ..body import check_media_type
from ..evaluation import evaluate
from ..openapi import PROBLEM_RESPONSES, request_body
from ..raw_route import RawRequestRoute
from ..responding import respond
from ..schemas import CrossEntropyResponse

router = APIRouter(tags=["cross-entropy"])


def _endpoint(family: Family) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await respond(request, functools.partial(evaluate, family), check_media_type)

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
        route_class_override=RawRequestRoute,
    )
