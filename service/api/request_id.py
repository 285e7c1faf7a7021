"""The outermost request wrapper: a request id for every request, echoed as ``X-Request-ID``, and a
problem+json 500 (carrying that id) for any exception nothing else handled."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .handlers import render_problem
from .problems import ECHO_LIMIT, ProblemError

HEADER = b"x-request-id"
# Client ids are echoed in headers and logs, so only short, printable tokens are kept.
ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,%d}$" % ECHO_LIMIT)
CRASH = ProblemError("internal_error", "The server failed; the request id identifies the log entry")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), b"")
        request_id = given.decode() if ACCEPTABLE.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not started:
                await render_problem(CRASH, Request(scope), max_items=1)(scope, receive, send_with_id)
            raise  # the server logs the traceback
