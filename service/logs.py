"""Logging: JSON lines (or console), the request id in every line, and the access logger.

Records go through a queue to a writer thread, so a slow stderr never stalls the event loop.
"""

from __future__ import annotations

import atexit
import contextvars
import hashlib
import json
import logging
import logging.handlers
import queue
import re
import sys
import time
import uuid
from typing import Any

from litestar.types import Scope

_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access = logging.getLogger("service.access")


def request_id(scope: Scope) -> str:
    """The incoming X-Request-ID when it is safe to echo, else a new UUID; computed once per request."""
    state = scope.setdefault("state", {})
    rid: str | None = state.get("request_id")
    if rid is None:
        rid = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        if not _VALID_ID.fullmatch(rid):
            rid = str(uuid.uuid4())
        state["request_id"] = rid
    return rid


def user_hash(user: object) -> str | None:
    """Log lines name users by a short hash: enough to follow one user, not enough to learn who."""
    if not isinstance(user, str):
        return None
    return hashlib.sha256(user.encode()).hexdigest()[:12]


def bind_request_id(rid: str) -> contextvars.Token[str | None]:
    """Every log line written while this request runs carries its id."""
    return _request_id.set(rid)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "route", "status", "duration_ms", "user"):
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if (status := getattr(record, "status", None)) is not None:
            line += f" {record.method} {record.route} {status} {record.duration_ms}ms"  # type: ignore[attr-defined]
        if (rid := getattr(record, "request_id", None)) is not None:
            line += f" [{rid}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _KeepRecord(logging.handlers.QueueHandler):
    """Pass records as they are: the writer thread formats them (with exc_info and extra fields intact)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.message = record.getMessage()
        return record


_listener: logging.handlers.QueueListener | None = None


def _stop_listener() -> None:
    """Flush what is queued at exit."""
    if _listener is not None and _listener._thread is not None:
        _listener.stop()


def configure(level: str, fmt: str) -> None:
    global _listener
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    if _listener is None:
        atexit.register(_stop_listener)
    else:
        _listener.stop()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = logging.handlers.QueueListener(records, output, respect_handler_level=False)
    _listener.start()
    handler = _KeepRecord(records)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
