"""Logs people can ship: plain text (the default) or one JSON object per line
(HANDOFF_LOG_FORMAT=json), carrying the request, lead, outbox row and workspace being worked on.

The IDs come from context variables set at the edge (a Slack request) and in the outbox sender
(a row), so a line logged anywhere below them says what it was about without passing IDs around.
They are IDs only: a lead's data never goes into a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

FIELDS = ("request_id", "team_id", "lead_id", "outbox_id")
_context: dict[str, ContextVar[str | int | None]] = {name: ContextVar(name, default=None) for name in FIELDS}
# scrapes and probes every few seconds would drown the requests that matter
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@contextmanager
def log_context(**ids: str | int | None) -> Iterator[None]:
    """Tag every line logged inside (in this task, and in tasks it starts) with these IDs."""
    tokens = [(_context[name], _context[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_ids() -> dict[str, str | int]:
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the context's IDs appended when there are any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = current_ids()
        return f"{line} [{' '.join(f'{k}={v}' for k, v in ids.items())}]" if ids else line


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


class QuietAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without health checks and metric scrapes, and without query strings
    (a query may carry a lead's ID or an OAuth code)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path in QUIET_PATHS:
            return
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
