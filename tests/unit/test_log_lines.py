"""The access line's direct path writes exactly what the standard path writes for the same line, in
both formats, and falls back to the standard path when a host configured the logger itself."""

from __future__ import annotations

import io
import logging

import pytest

from pinfold.core import logs

FIELDS = {"service": "sesv2", "operation": "SendEmail", "status": 200, "error": None, "account": "111122223333",
          "tenant": None, "ms": 1.5, "request_id": "r-1"}


def _without_time(line: str) -> str:
    return line.split('"', 4)[-1] if line.startswith("{") else line.split(" ", 1)[1]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_direct_access_line_matches_the_standard_one(fmt):
    out = io.StringIO()
    logs.configure("info", fmt, out)
    try:
        logs.access("SendEmail 200", FIELDS)
        logging.getLogger("pinfold.access").info("%s", "SendEmail 200", extra={"fields": FIELDS})
        direct, standard = out.getvalue().splitlines()
        assert _without_time(direct) == _without_time(standard)
        assert "request_id" in direct and "SendEmail 200" in direct
        logs.configure("warning", fmt, out)
        logs.access("GetApps 200", FIELDS)
        assert "GetApps" not in out.getvalue()  # below the level: not written
    finally:
        logs.configure("info", "text")


def test_a_host_handler_on_the_access_logger_gets_the_line_the_standard_way():
    out, seen = io.StringIO(), []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append((record.getMessage(), record.fields))

    logs.configure("info", "json", out)
    keep = Keep()
    logging.getLogger("pinfold.access").addHandler(keep)
    try:
        logs.access("SendEmail 200", FIELDS)
    finally:
        logging.getLogger("pinfold.access").removeHandler(keep)
        logs.configure("info", "text")
    assert seen == [("SendEmail 200", FIELDS)] and "SendEmail 200" in out.getvalue()
