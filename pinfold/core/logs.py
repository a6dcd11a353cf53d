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
    handler = _Handler(stream, json=fmt.lower() == "json")
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    _handler = handler
    root.setLevel(level.upper())
    _record_only_what_lines_show()
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if level.lower() == "debug" else logging.WARNING)
    for name in _UVICORN:  # uvicorn's lines take the same way, in the same format
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


_handler: logging.Handler | None = None


def _record_only_what_lines_show() -> None:
    """Skip what neither format prints: the caller's file and line (a walk up the stack on every
    line), and the thread, process and multiprocessing names. These are the switches the logging
    HOWTO's "Optimization" section lists; the access line on every request costs half as much."""
    logging._srcfile = None  # the HOWTO's documented switch for findCaller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class _Handler(logging.StreamHandler):
    """Pinfold's one handler: lines as text or JSON, to `stream`, or (none given) to whatever
    sys.stderr is when a line is written (a command run inside another program, a test runner, may
    swap it and close what it swapped in)."""

    def __init__(self, stream=None, *, json: bool) -> None:
        super().__init__(stream)
        self.follows_stderr = stream is None
        self.json = json
        self.setFormatter(JsonFormatter() if json else TextFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if self.follows_stderr:
            self.stream = sys.stderr
        super().emit(record)

    def write_line(self, line: str) -> None:
        """One formatted line, under the handler's lock, as emit writes it."""
        with self.lock:
            stream = sys.stderr if self.follows_stderr else self.stream
            try:
                stream.write(line + self.terminator)
                stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: as logging's handleError, keep serving
                pass


_access = logging.getLogger("pinfold.access")


def access(message: str, fields: dict) -> None:
    """The access line of one AWS call, at info on the `pinfold.access` logger.

    When Pinfold configured this process's logging, the line is formatted as every other line and
    written through its handler directly: the standard record machinery (a LogRecord, the logger
    hierarchy, filters) cost 17 us of a 200 us call in process, the line itself 2 us (measured with
    benchmarks/observability.py). Otherwise (Pinfold embedded, logging configured by its host) it
    goes the standard way, to whatever handlers the host set up."""
    if not _access.isEnabledFor(logging.INFO):
        return
    handler = _handler
    if handler is None or _access.handlers or not _access.propagate:
        _access.info("%s", message, extra={"fields": fields})
        return
    now = time.time()
    stamp = _stamp(now, int((now - int(now)) * 1000))
    if handler.json:
        line = _json_line(stamp, "info", "pinfold.access", message, fields)
    else:
        line = _text_line(stamp, "INFO", "pinfold.access", message, fields)
    handler.write_line(line)


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def _stamp(created: float, msecs: int) -> str:
    global _second
    whole = int(created)
    if _second[0] != whole:  # formatted once a second, not once a line
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{msecs:03d}Z"


def _text_line(stamp: str, level: str, name: str, message: str, fields: dict | None) -> str:
    line = f"{stamp} {level:<7} {name}: {message}"
    if fields:
        line += " " + " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    return line


def _json_line(stamp: str, level: str, name: str, message: str, fields: dict | None, error: str | None = None) -> str:
    line = {"time": stamp, "level": level, "logger": name, "message": message}
    line.update(fields or {})
    if error is not None:
        line["error"] = error
    return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`2026-12-06T21:00:00.123Z INFO    pinfold.access: SendEmail 200 service=sesv2 ...`"""

    def format(self, record: logging.LogRecord) -> str:
        line = _text_line(_stamp(record.created, int(record.msecs)), record.levelname, record.name,
                          record.getMessage(), getattr(record, "fields", None))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the line's fields, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        error = self.formatException(record.exc_info) if record.exc_info else None
        return _json_line(_stamp(record.created, int(record.msecs)), record.levelname.lower(), record.name,
                          record.getMessage(), getattr(record, "fields", None), error)
