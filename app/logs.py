"""Process logging: plain text or one JSON object per line, with context ids bound."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.settings import Settings

#: Ids bound to the current request or run, added to every log record.
log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context", default={})  # noqa: B039


def bind(**ids: Any) -> contextvars.Token[dict[str, str]]:
    """Add ids (request_id, run_id, ...) to the log context; reset with the returned token."""
    return log_context.set({**log_context.get(), **{k: str(v) for k, v in ids.items() if v is not None}})


def current_trace_id() -> str | None:
    """The id tying a change to its cause: the request's id in the API, the run's id in a worker."""
    bound = log_context.get()
    return bound.get("request_id") or bound.get("run_id")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = log_context.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, process, bound ids, exception."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": self.process,
            "pid": record.process,
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)-7s {process}[%(process)d] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = getattr(record, "context", {})
        return text + ("  " + " ".join(f"{k}={v}" for k, v in context.items()) if context else "")


def configure_logging(settings: Settings, *, process: str) -> None:
    """Send every logger to stderr in the configured format and level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter(process) if settings.log_format == "json" else TextFormatter(process))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for noisy in ("sqlalchemy.engine", "alembic", "pgserver"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
