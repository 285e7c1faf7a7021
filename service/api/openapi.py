"""The OpenAPI document: request bodies are parsed by hand (Pydantic's JSON parser on the raw bytes), so
their schemas and the problem+json responses are added to FastAPI's document here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..families import FAMILIES
from .auth import is_protected
from .problems import PROBLEM_MEDIA_TYPE, TITLES
from .schemas import Problem
from .v2.schemas import InferenceRequest

REF = "#/components/schemas/{model}"
DOCUMENTED_MODELS: tuple[type[BaseModel], ...] = (
    *(family.request for family in FAMILIES),
    InferenceRequest,
    Problem,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _ref(model)}}}}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(Problem)}}}


def _codes_with(status: int) -> str:
    return ", ".join(code for code, (s, _) in TITLES.items() if s == status)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(f"{title}: {_codes_with(status)}")
    for status, title in [
        (400, "Malformed JSON"),
        (413, "Too large"),
        (415, "Not JSON, or a Content-Encoding other than gzip, deflate and identity"),
        (422, "Invalid request"),
        (500, "Internal error"),
    ]
}


SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API key, when the service has keys"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "the same key"},
}
# Either scheme, or none: a deployment without LOSS_SERVICE_API_KEYS needs no key.
OPTIONAL_KEY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}, {}]


def _declare_api_keys(document: dict[str, Any]) -> None:
    """The key schemes, on every operation the API-key middleware guards (the same path test)."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document.get("paths", {}).items():
        if is_protected(path):
            for operation in operations.values():
                operation["security"] = OPTIONAL_KEY
                operation.setdefault("responses", {})["401"] = problem_response(
                    "Missing or wrong API key: unauthorized"
                )


def install(app: FastAPI) -> None:
    """Serve a document with the hand-parsed request models in ``components/schemas``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                separate_input_output_schemas=False,
            )
            _, extra = models_json_schema([(m, "validation") for m in DOCUMENTED_MODELS], ref_template=REF)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            _declare_api_keys(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
