"""Uvicorn's own access log, tamed: however the app is started (``uvicorn service.main:app`` logs every
request line), no log line carries more than ``ECHO_LIMIT`` characters of the client's path or query.

The lines are clipped rather than dropped: they are what someone running plain uvicorn asked for, and
``--no-access-log`` still turns them off. ``loss-service serve`` turns them off itself, since the app
writes its own JSON access line."""

import logging

from service.api.problems import clip

UVICORN_ACCESS = "uvicorn.access"


class ClipClientText(logging.Filter):
    """Cuts every string argument of a record (uvicorn's: client, method, path with query, version)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # Same tuple shape: uvicorn's AccessFormatter unpacks it.
            record.args = tuple(clip(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def tame_uvicorn_access_log() -> None:
    """Install the filter once per process, whether or not uvicorn has configured its logger yet
    (filters outlive its dictConfig, which keeps existing loggers)."""
    logger = logging.getLogger(UVICORN_ACCESS)
    if not any(isinstance(f, ClipClientText) for f in logger.filters):
        logger.addFilter(ClipClientText())
