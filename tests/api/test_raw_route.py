"""The routes that read the raw request skip FastAPI's dependency solving; only plain endpoints may."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from service.api.raw_route import RawRequestRoute
from service.api.routes import cross_entropy
from service.api.v2 import routes as v2


def test_the_request_reading_routes_are_raw() -> None:
    routes = [r for r in [*cross_entropy.router.routes, *v2.router.routes] if isinstance(r, APIRoute)]
    raw = {route.path for route in routes if isinstance(route, RawRequestRoute)}
    assert raw == {
        "/v1/cross-entropy/sparse",
        "/v1/cross-entropy/categorical",
        "/v1/cross-entropy/binary",
        "/v2/models/{model}/infer",
        "/v2/models/{model}/versions/{version}/infer",
    }


def test_an_endpoint_with_a_converted_parameter_is_refused() -> None:
    async def endpoint(request: Request, count: int) -> Response:
        return Response()

    router = APIRouter()
    with pytest.raises(TypeError, match="str path parameters only"):
        router.add_api_route("/things/{count}", endpoint, route_class_override=RawRequestRoute)


def test_an_endpoint_without_the_request_is_refused() -> None:
    async def endpoint(name: str) -> Response:
        return Response()

    router = APIRouter()
    with pytest.raises(TypeError, match="str path parameters only"):
        router.add_api_route("/things/{name}", endpoint, route_class_override=RawRequestRoute)
