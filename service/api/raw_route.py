"""A route class for endpoints that read the raw ``Request`` (the family routes and V2 inference): FastAPI
documents them as usual, but a request skips its dependency solving, which for these endpoints only
hands over the request and the path's plain ``str`` parameters, and costs about a tenth of a small
request's CPU."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from fastapi.telemetry import get_telemetry_data
from starlette.convertors import StringConvertor
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class RawRequestRoute(APIRoute):
    """For ``async def endpoint(request: Request, **path_params: str) -> Response``: the endpoint is
    called with the request and the matched path parameters, and its response is sent as it is.

    With FastAPI's own telemetry (OpenTelemetry) active, requests take FastAPI's full handler, so the
    telemetry sees what it always did."""

    def get_route_handler(self) -> Handler:
        full = super().get_route_handler()
        endpoint = self.endpoint
        self._check_signature()

        async def handler(request: Request) -> Response:
            if get_telemetry_data() is not None:
                return await full(request)
            response: Response = await endpoint(request, **request.path_params)
            return response

        return handler

    def _check_signature(self) -> None:
        """Only a ``Request`` and ``str`` path parameters: nothing FastAPI would validate or convert."""
        params = self.dependant
        plain = (
            params.request_param_name is not None
            and not (params.query_params or params.header_params or params.cookie_params)
            and not (params.body_params or params.dependencies)
            and params.response_param_name is None
            and params.background_tasks_param_name is None
            and all(p.field_info.annotation is str for p in params.path_params)
            and self.param_convertors.keys() == {p.name for p in params.path_params}
            and all(isinstance(c, StringConvertor) for c in self.param_convertors.values())
        )
        if not plain:
            raise TypeError(f"{self.path}: RawRequestRoute takes a Request and str path parameters only")
