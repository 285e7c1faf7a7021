"""One JSON object per log line, for the access log and for uvicorn's own messages."""

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

ACCESS_LOGGER = "loss_service.access"


class JsonFormatter(logging.Formatter):
    """Formats a record as `{"ts", "level", "logger", "message", "request_id"?, **record.fields}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_access_log(level: str) -> logging.Logger:
    """Give the access logger a JSON stdout handler, once, whatever started the app."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        # Uvicorn's own loggers have their own handlers: keep these lines out of them.
        logger.propagate = False
    logger.setLevel(level.upper())
    return logger


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """A `logging.dictConfig` for uvicorn that writes its messages as JSON lines on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "service": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
