"""The /v2 routes: health, metadata and inference for each family (a model named by its operationId)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ...lifecycle import readiness
from ..openapi import problem_response
from ..raw_route import RawRequestRoute
from ..responding import respond
from ..routes.health import NOT_READY_RESPONSES, check_ready
from . import metadata
from .framing import BINARY_MEDIA_TYPE, HEADER_LENGTH, check_media_type
from .inference import VERSION, infer
from .schemas import (
    InferenceRequest,
    InferenceResponse,
    Live,
    ModelMetadata,
    ModelReady,
    Ready,
    ServerMetadata,
)

router = APIRouter(prefix="/v2", tags=["v2"])

# Documented as enums; another name or version is answered 404 (not_found), not a validation error.
Model = Annotated[
    str,
    Path(description="a loss family's operationId", json_schema_extra={"enum": list(metadata.MODELS)}),
]
Version = Annotated[
    str, Path(description="every model has one version", json_schema_extra={"enum": [VERSION]})
]

MODEL = "/models/{model}"
VERSIONED = MODEL + "/versions/{version}"
RESPONSES: dict[int | str, dict[str, Any]] = {
    404: problem_response("Unknown model or version: not_found"),
}
INFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    200: {
        "description": "JSON, or with binary outputs the JSON header (Inference-Header-Content-Length "
        "bytes) followed by their raw bytes",
        "content": {BINARY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    400: problem_response("Invalid request (422 on /v1); the member `error` repeats `detail`"),
    413: problem_response("Too large: too_large"),
    415: problem_response("Not JSON or octet-stream: unsupported_media_type"),
    500: problem_response("Internal error"),
}
INFER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{InferenceRequest.__name__}"}},
            BINARY_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "binary tensor extension: the InferenceRequest JSON "
                    "(Inference-Header-Content-Length bytes), then each input with "
                    "parameters.binary_data_size as raw little-endian row-major bytes, in input order",
                }
            },
        },
    }
}


def _ready(model: str, version: str | None) -> ModelReady:
    family = metadata.model_of(model, version)
    check_ready()
    return ModelReady(name=family.name, ready=readiness.ready)


async def _infer(request: Request, model: str, version: str | None) -> Response:
    family = metadata.model_of(model, version)
    evaluate = functools.partial(infer, family, request.headers.get(HEADER_LENGTH))
    return await respond(request, evaluate, check_media_type)


Endpoint = Callable[..., Awaitable[Response]]
_METADATA: dict[str, Any] = {"response_model": ModelMetadata, "summary": "Model metadata: inputs and outputs"}
_READY: dict[str, Any] = {
    "response_model": ModelReady,
    "summary": "Model readiness",
    "responses": {**RESPONSES, **NOT_READY_RESPONSES},
}
_INFER: dict[str, Any] = {
    "response_model": InferenceResponse,
    "summary": "Inference: the model's loss, statistics and metrics as output tensors",
    "openapi_extra": INFER_BODY,
    "responses": INFER_RESPONSES,
}


def _inference(path: str, operation_id: str) -> Callable[[Endpoint], Endpoint]:
    """``@router.post`` for an inference route, which takes the raw request (see ``RawRequestRoute``)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            operation_id=operation_id,
            route_class_override=RawRequestRoute,
            **_INFER,
        )
        return endpoint

    return register


# Inference first: the routes are matched in order, and inference is what is called most.
@_inference(MODEL + "/infer", "v2_infer")
async def model_infer(request: Request, model: Model) -> Response:
    return await _infer(request, model, None)


@_inference(VERSIONED + "/infer", "v2_version_infer")
async def model_version_infer(request: Request, model: Model, version: Version) -> Response:
    return await _infer(request, model, version)


@router.get(MODEL, operation_id="v2_model_metadata", responses=RESPONSES, **_METADATA)
async def model_metadata(model: Model) -> ModelMetadata:
    return metadata.model(metadata.model_of(model))


@router.get(VERSIONED, operation_id="v2_model_version_metadata", responses=RESPONSES, **_METADATA)
async def model_version_metadata(model: Model, version: Version) -> ModelMetadata:
    return metadata.model(metadata.model_of(model, version))


@router.get(MODEL + "/ready", operation_id="v2_model_ready", **_READY)
async def model_ready(model: Model) -> ModelReady:
    return _ready(model, None)


@router.get(VERSIONED + "/ready", operation_id="v2_model_version_ready", **_READY)
async def model_version_ready(model: Model, version: Version) -> ModelReady:
    return _ready(model, version)


@router.get("", operation_id="v2_server_metadata", response_model=ServerMetadata, summary="Server metadata")
async def server_metadata() -> ServerMetadata:
    return metadata.server()


@router.get("/health/live", operation_id="v2_live", response_model=Live, summary="Liveness (V2)")
async def live() -> Live:
    return Live(live=True)


@router.get(
    "/health/ready",
    operation_id="v2_ready",
    response_model=Ready,
    summary="Readiness (V2): follows /readyz",
    responses=NOT_READY_RESPONSES,
)
async def ready() -> Ready:
    check_ready()
    return Ready(ready=True)
