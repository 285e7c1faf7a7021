"""Pure-ASGI middleware: Prometheus metrics and one JSON access-log line per HTTP request.

It sees only sizes, the status, and what the app leaves in `scope["state"]` (`request_id`,
`problem_code`, `elements`) — never a body, so no tensor data can reach a log line or a label.
"""

import logging
import time
from dataclasses import dataclass
from numbers import Integral

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import clip
from service.observability import metrics

_UNMATCHED = "unmatched"
# Label values must stay few: any other method a client sends is counted as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(slots=True)
class _Exchange:
    """What the middleware learns about one request while it passes through."""

    status: int | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    crashed: bool = False


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The app leaves request_id, problem_code and elements here: make sure it is this dict.
        scope.setdefault("state", {})
        exchange = _Exchange()

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.request_bytes += len(message.get("body", b""))
            return message

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            elif message["type"] == "http.response.body":
                exchange.response_bytes += len(message.get("body", b""))
            await send(message)

        start = time.perf_counter()
        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, counting_receive, observing_send)
        except Exception:
            # Before any response, the outer error middleware answers this with a 500 problem.
            exchange.crashed = exchange.status is None
            raise
        finally:
            metrics.IN_FLIGHT.dec()
            self._record(scope, exchange, time.perf_counter() - start)

    def _record(self, scope: Scope, exchange: _Exchange, seconds: float) -> None:
        route = _route_template(scope)
        method = scope["method"] if scope["method"] in _METHODS else "other"
        # No response at all (e.g. the client went away mid-request) is counted as a 500.
        status = exchange.status or 500
        requests, latency, request_size = _children(method, route, status)
        requests.inc()
        latency.observe(seconds)
        request_size.observe(exchange.request_bytes)

        state = scope["state"]
        # Any integer, NumPy's included (e.g. an array's .size).
        elements = int(state["elements"]) if isinstance(state.get("elements"), Integral) else None
        if status < 400 and elements is not None:
            metrics.ELEMENTS.labels(route).inc(elements)
        code = "internal_error" if exchange.crashed else state.get("problem_code")
        if isinstance(code, str):
            metrics.ERRORS.labels(code, route).inc()

        if self.logger.isEnabledFor(logging.INFO):
            fields: dict[str, object] = {
                "request_id": state.get("request_id"),
                "method": method,
                # Paths are client text: as short as everything else the service echoes.
                "path": clip(scope["path"]),
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "request_bytes": exchange.request_bytes,
                "response_bytes": exchange.response_bytes,
            }
            if elements is not None:
                fields["elements"] = elements
            if isinstance(code, str):
                fields["code"] = code
            self.logger.info("request", extra={"fields": fields})


# The labelled children of the per-request metrics, by (method, route, status): the label values are few
# (see above), and a lookup here costs a fraction of prometheus_client's ``labels``.
_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram, Histogram]] = {}


def _children(method: str, route: str, status: int) -> tuple[Counter, Histogram, Histogram]:
    children = _CHILDREN.get((method, route, status))
    if children is None:
        labels = (method, route, str(status))
        children = _CHILDREN[method, route, status] = (
            metrics.REQUESTS.labels(*labels),
            metrics.LATENCY.labels(*labels),
            metrics.REQUEST_SIZE.labels(route),
        )
    return children


def _route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label values), not the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else _UNMATCHED
