"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ...lifecycle import readiness
from ..openapi import problem_response
from ..problems import ProblemError
from ..schemas import Status

router = APIRouter(tags=["health"])

ALIVE = b'{"status":"ok"}'
READY = b'{"status":"ready"}'
NOT_READY_RESPONSES: dict[int | str, dict[str, object]] = {503: problem_response("Starting or draining")}


@router.get("/healthz", operation_id="healthz", response_model=Status, summary="Liveness")
async def healthz() -> Response:
    return Response(ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Status,
    summary="Readiness",
    responses=NOT_READY_RESPONSES,
)
async def readyz() -> Response:
    check_ready()
    return Response(READY, media_type="application/json")


def check_ready() -> None:
    """503 ``not_ready`` while starting or draining (readiness probes, V2's too)."""
    if not readiness.ready:
        state = "draining" if readiness.draining else "starting"
        raise ProblemError(
            "not_ready",
            f"This process is {state}; send requests to another replica",
            headers={"Retry-After": "1"},
        )
