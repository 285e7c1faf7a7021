"""Run the service under uvicorn with the settings from the environment.

On SIGTERM (what `docker stop` and Kubernetes send) the server drains: `/readyz` answers 503 at
once so load balancers stop sending new work, the server keeps serving for `drain_seconds`, then
stops accepting connections, lets the requests in flight finish, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from service.config import Settings, get_settings
from service.lifecycle import readiness
from service.observability.jsonlog import uvicorn_log_config

APP = "service.main:app"
# The longest a request may take at every layer: nginx's proxy_read_timeout is the same, and the
# container stop / Kubernetes grace periods cover drain_seconds plus this.
REQUEST_TIMEOUT_SECONDS = 60
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx, not uvicorn, closes idle
# pooled connections and never sends a request on one uvicorn is closing.
KEEP_ALIVE_SECONDS = 65

logger = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose SIGTERM starts a drain period before the usual graceful shutdown."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM:
            super().handle_exit(sig, frame)
        elif self.drain_deadline is None:
            readiness.start_draining()
            self.drain_deadline = time.monotonic() + self.drain_seconds
            logger.info("SIGTERM: /readyz answers 503; shutting down in %.1f s", self.drain_seconds)
        else:
            # A second SIGTERM cuts the drain short; in-flight requests still finish.
            self.should_exit = True
        # SIGTERM is deliberately not handed to uvicorn's bookkeeping: it would re-raise the
        # signal after a clean shutdown, and the process would die of it instead of exiting 0.

    async def on_tick(self, counter: int) -> bool:
        if self.drain_deadline is not None and time.monotonic() >= self.drain_deadline:
            self.should_exit = True
        return await super().on_tick(counter)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": uvicorn_log_config(settings.log_level),
        # The app writes one JSON access line per request itself.
        "access_log": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": REQUEST_TIMEOUT_SECONDS,
    }


def serve(settings: Settings | None = None) -> int:
    """Run the server until it has shut down; the process exit status."""
    settings = settings or get_settings()
    options = uvicorn_options(settings)
    if settings.workers > 1:
        # uvicorn's supervisor runs its own servers: they shut down gracefully, without the drain.
        uvicorn.run(APP, workers=settings.workers, **options)
        return 0
    server = DrainingServer(uvicorn.Config(APP, **options), settings.drain_seconds)
    # Ctrl-C: uvicorn re-raises SIGINT once it has shut down; like uvicorn.run, print no trace.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE
