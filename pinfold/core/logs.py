"""Pinfold's log lines, configured once per process: by the bootstrap for `serve` and `worker`, and
by the CLI for every other command.

The level comes from PINFOLD_LOG_LEVEL. Lines are readable text by default, or one JSON object per
line with PINFOLD_LOG_FORMAT=json. uvicorn's own lines go through the same handler, so with json
every line is JSON, the server's start-up lines included.

A line's fields beyond its message ride in `extra={"fields": {...}}`: the access line puts the
service, operation, status and latency there. Nothing here redacts: no caller passes a secret, a
signature, a password or a message body (tests plant them and read the logs).
"""

from __future__ import annotations

import logging
import sys
import time

import orjson

from pinfold.config import Settings

_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Libraries whose INFO lines say nothing an operator asks about: heard from at warning, or at debug.
_QUIET = ("alembic",)


def setup(settings: Settings, stream=None) -> None:
    """Configure this process's logging from its settings (checked when they were read), then log
    what reading them found worth saying (an unknown PINFOLD_* name, with the closest known one)."""
    configure(settings.log_level, settings.log_format, stream)
    for notice in settings.notices:
        logging.getLogger("pinfold.config").warning("%s", notice)


def configure(level: str = "info", fmt: str = "text", stream=None) -> None:
    """Send every log line of this process to `stream` (default: stderr) at `level`, as text or JSON.
    Configuring again replaces Pinfold's handler and leaves any other alone."""
    global _handler
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter() if fmt.lower() == "json" else TextFormatter())
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    _handler = handler
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if level.lower() == "debug" else logging.WARNING)
    for name in _UVICORN:  # uvicorn's lines take the same way, in the same format
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


_handler: logging.Handler | None = None


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (a command run inside another program,
    a test runner, may swap it and close what it swapped in)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """`2026-12-06T21:00:00.123Z INFO    pinfold.access: SendEmail 200 service=sesv2 ...`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the line's fields, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _timestamp(record), "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()
