"""Exception handlers: every failure leaves as application/problem+json (crashes: see request_id)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .pointers import pointer
from .problems import ProblemError, clip, item, render
from .v2 import errors as v2_errors


def render_problem(problem: ProblemError, request: Request, max_items: int) -> Response:
    """The problem in the flavour of the protocol asked (V2 clients read ``error``, get 400)."""
    flavour = v2_errors.render if v2_errors.applies(request) else render
    return flavour(problem, request, max_items)


def install(app: FastAPI) -> None:
    def respond(problem: ProblemError, request: Request) -> Response:
        return render_problem(problem, request, int(request.app.state.settings.max_error_items))

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return respond(exc, request)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = clip(request.url.path)
        if exc.status_code == 405:
            problem = ProblemError(
                "method_not_allowed",
                f"{request.method[:10]} is not allowed on {path}",
                headers=dict(exc.headers or {}),
            )
        elif exc.status_code == 404:
            problem = ProblemError(
                "not_found",
                f"No endpoint at {path}",
                hint="see /docs or /openapi.json for the endpoints",
            )
        else:
            raise exc
        return respond(problem, request)

    async def on_validation(request: Request, exc: Exception) -> Response:
        # Only reachable for parameters FastAPI itself validates; request bodies are parsed by hand.
        assert isinstance(exc, RequestValidationError)
        items = [item("invalid_field", pointer(*e["loc"][1:]), e["msg"]) for e in exc.errors()]
        return respond(ProblemError("invalid_field", items[0]["message"], errors=items), request)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
