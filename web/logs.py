"""Logging for `serve` and `worker`: one JSON object per line, or plain text for humans.

JSON lines carry `time`, `level`, `logger` and `message`, plus whatever a call passes in
`extra` (the access log adds method, path, status, duration_ms and client), so a log
collector can filter on fields instead of parsing sentences.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import IO, Any

ACCESS_LOGGER = "ourdesign.access"


def configure_logging(
    fmt: str = "json", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    formatters: dict[str, Any] = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    }
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {fmt: formatters[fmt]},
            "filters": {"plain": {"()": PlainMessages}},
            "handlers": {
                "out": {
                    "class": "logging.StreamHandler",
                    "formatter": fmt,
                    "filters": ["plain"],
                    "stream": stream or sys.stderr,
                }
            },
            "root": {"handlers": ["out"], "level": level.upper()},
            # uvicorn's own loggers go through ours; its access log is replaced by ours.
            "loggers": {
                "uvicorn": {"handlers": [], "propagate": True, "level": "NOTSET"},
                "uvicorn.error": {"handlers": [], "propagate": True, "level": "NOTSET"},
                "uvicorn.access": {"handlers": [], "propagate": False},
            },
        }
    )


class PlainMessages(logging.Filter):
    """Drops uvicorn's `color_message` (terminal colour codes) from the records it logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def log_request(method: str, path: str, status: int, seconds: float, client: str) -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s %s %d",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client,
            },
        )
