"""Logging: JSON lines (or console), the request id in every line, and the access logger.

Lines are written in batches by a thread, so a slow stderr never stalls the event loop.
"""

from __future__ import annotations

import atexit
import collections
import contextvars
import hashlib
import logging
import re
import sys
import threading
import time
from random import getrandbits
from typing import Any

import msgspec
from litestar.types import Scope

_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access = logging.getLogger("service.access")


def request_id(scope: Scope) -> str:
    """The incoming X-Request-ID when it is safe to echo, else a new random id (the edge asks once per request)."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            rid: str = value.decode("latin-1")
            return rid if _VALID_ID.fullmatch(rid) else new_request_id()
    return new_request_id()


# The version (4) and variant (RFC 4122) bits of a random UUID, over 128 random bits.
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random version-4 UUID, written out. From `random`, not uuid4's os.urandom: a request id correlates log
    lines and is echoed to the client, it guards nothing, and uuid4 (a system call and a UUID object) cost
    about 2% of a get-one. `random` reseeds in each forked worker, so workers draw different ids."""
    h = f"{getrandbits(128) & _V4_CLEAR | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


_json = msgspec.json.Encoder()
_second: tuple[int, str] = (0, "")


def _timestamp(created: float) -> str:
    """RFC 3339 in UTC with milliseconds; the seconds part is formatted once per second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "route", "status", "duration_ms", "user"):
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _json.encode(entry).decode()


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


class _BatchWriter(logging.Handler):
    """Formats each record where it is logged and hands the line to a thread that writes every 50 ms.

    One write per batch, and the writer thread wakes twenty times a second, not once per line: a thread
    woken for every request's access line would take the GIL from the event loop hundreds of times a
    second (measured: a third of get-one's throughput). Lines are in order; at most 50 ms late.
    """

    def __init__(self, stream: Any, interval: float = 0.05) -> None:
        super().__init__()
        self._stream = stream
        self._interval = interval
        self._lines: collections.deque[str] = collections.deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record))
        except Exception:
            self.handleError(record)

    def write(self, line: str) -> None:
        self._lines.append(line)  # deque.append is atomic: no lock on the hot path

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
        self.flush()

    def flush(self) -> None:
        batch = [self._lines.popleft() for _ in range(len(self._lines))]
        if batch:
            self._stream.write("\n".join(batch) + "\n")
            self._stream.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        super().close()


_handler: _BatchWriter | None = None
_direct: _BatchWriter | None = None  # the JSON writer access lines may go to straight (see access_line)
_service = logging.getLogger("service")


def access_line(rid: str, method: str, route: str, status: int, duration_ms: float, user: str | None) -> None:
    """One access line, as `access.info("request", extra=...)` would write it through the JSON formatter.

    Straight to the line writer when nothing else could see the record: the logging machinery (a LogRecord,
    filters, the handlers of three loggers) cost 15 us a request, about 3% of a get-one; this line, 3 us.
    Through the `service.access` logger otherwise: console lines, or a handler or filter someone attached.
    """
    if not access.isEnabledFor(logging.INFO):
        return
    root = logging.root
    if (
        _direct is None
        or access.handlers
        or access.filters
        or _service.handlers
        or _service.filters
        or len(root.handlers) != 1
        or root.handlers[0] is not _direct
    ):
        extra = {"method": method, "route": route, "status": status, "duration_ms": duration_ms, "user": user}
        access.info("request", extra=extra)
        return
    entry: dict[str, Any] = {
        "time": _timestamp(time.time()),
        "level": "info",
        "logger": "service.access",
        "message": "request",
        "request_id": rid,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
    }
    if user is not None:
        entry["user"] = user
    _direct.write(_json.encode(entry).decode())


def _close_handler() -> None:
    """Write what is pending at exit."""
    if _handler is not None:
        _handler.close()


def configure(level: str, fmt: str) -> None:
    global _handler, _direct
    # Our lines carry no source file, thread or process: skip computing them for every record (the
    # logging HOWTO's "Optimization" section). The caller lookup walks the whole stack, and an access
    # line is logged from deep inside the ASGI stack on every request.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if _handler is None:
        atexit.register(_close_handler)
    else:
        _handler.close()
    _handler = _BatchWriter(sys.stderr)
    _handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    _direct = _handler if fmt == "json" else None
    _handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [_handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
