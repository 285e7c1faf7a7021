"""The problem+json of /v2: what is 422 on /v1 is 400 here, and the member ``error`` (the detail) is what
V2 clients (tritonclient, KServe's) show."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..problems import ProblemError, problem_body, problem_json_response

PREFIX = "/v2"


def applies(request: Request) -> bool:
    path: str = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def render(problem: ProblemError, request: Request, max_items: int) -> Response:
    body = problem_body(problem, request, max_items)
    if body["status"] == 422:
        body["status"] = 400
    body["error"] = body["detail"]
    return problem_json_response(body, problem.headers)
