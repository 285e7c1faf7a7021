"""Metrics (`GET /metrics`) and JSON access logs for the HTTP service."""

from fastapi import FastAPI

from service.observability.clipping import tame_uvicorn_access_log
from service.observability.jsonlog import configure_access_log
from service.observability.metrics import metrics_endpoint
from service.observability.middleware import ObservabilityMiddleware


def instrument(app: FastAPI, log_level: str) -> None:
    """Serve `/metrics` and observe every request; call after adding the other middleware,
    so that this one is outermost: it sees the final status, the whole time, and the request id."""
    # An API route (not a plain one), so the middleware sees its template like any other's.
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(ObservabilityMiddleware, logger=configure_access_log(log_level))
    tame_uvicorn_access_log()
