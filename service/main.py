"""The ASGI application: ``uvicorn service.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import __version__
from .api import auth, docs, handlers, openapi
from .api.request_id import RequestIdMiddleware
from .api.routes import cross_entropy, health, info
from .api.v2 import routes as v2
from .config import Settings, get_settings
from .lifecycle import readiness
from .memory import freeze_startup_objects, retain_freed_memory
from .observability import instrument

DESCRIPTION = (
    "Exact, explainable softmax cross-entropy at the conventions of TensorFlow, Keras and PyTorch: "
    "per-example and reduced losses plus the statistics (loss_sum, weight_sum, count) that combine "
    "requests exactly. Every error is an RFC 9457 problem pointing at the offending field."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        retain_freed_memory()
        freeze_startup_objects()
        readiness.mark_ready()
        yield

    app = FastAPI(
        title="loss-service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        docs_url=None,  # /docs and /redoc: service/api/docs.py, from assets shipped in the package
        redoc_url=None,
    )
    app.state.settings = settings or get_settings()
    for module in (cross_entropy, health, info, v2):
        app.include_router(module.router)
    app.include_router(docs.router)
    handlers.install(app)
    openapi.install(app)
    auth.install(app)  # inside the request id and the access log: a 401 carries and logs both
    app.add_middleware(RequestIdMiddleware)
    instrument(app, app.state.settings.log_level)
    return app


app = create_app()
