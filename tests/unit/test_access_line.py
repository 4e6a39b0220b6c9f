"""The access line written straight to the line writer is the line the logging path writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from service import logs

ROUTE = "/api/{user_id:str}/tasks/{task_id:str}"


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    logs.configure("INFO", "json")
    assert logs._handler is not None
    stream = logs._handler._stream = io.StringIO()
    root = logging.getLogger()
    pytests = root.handlers[:]
    root.handlers[:] = [logs._handler]  # as in the service: pytest's capture handlers would force the logging path
    try:
        yield stream
    finally:
        root.handlers[:] = pytests
        logs.configure("WARNING", "json")  # what the other tests' apps configured


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    assert logs._handler is not None
    logs._handler.flush()
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("user", ["0123456789ab", None])
def test_the_direct_line_is_the_logging_paths_line(written: io.StringIO, user: str | None) -> None:
    token = logs.bind_request_id("rid-1")
    try:
        logs.access_line("rid-1", "GET", ROUTE, 200, 1.25, user)  # straight to the writer
        passthrough = logging.Filter()  # lets everything through, but makes the logging path the only safe one
        logging.getLogger("service").addFilter(passthrough)
        try:
            logs.access_line("rid-1", "GET", ROUTE, 200, 1.25, user)
        finally:
            logging.getLogger("service").removeFilter(passthrough)
    finally:
        logs.unbind_request_id(token)
    direct, through_logging = _lines(written)
    assert logs._direct is logs._handler
    assert direct.pop("time").endswith("Z") and through_logging.pop("time").endswith("Z")
    assert direct == through_logging
    assert list(direct) == list(through_logging)  # the same order of fields too
    assert direct["request_id"] == "rid-1" and direct.get("user") == user


def test_no_line_below_the_level(written: io.StringIO) -> None:
    logging.getLogger().setLevel(logging.WARNING)
    logs.access_line("rid-2", "GET", ROUTE, 200, 1.0, None)
    assert _lines(written) == []
