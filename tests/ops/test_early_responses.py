"""Responses sent before the request body is read never break the kept-alive connection they answer on.

Against the real server on a raw socket, as a pooling HTTP client uses it: send the whole request, read the
early answer, then (unless it said `Connection: close`) send a second request on the same socket. The body
goes in two halves with a pause between them, as a slow upload does: the server then answers before the
body has arrived, which is when it used to drop the connection (with the whole body already buffered it
sometimes drained it and sometimes did not).
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import make_token
from tests.ops.conftest import Server

TIMEOUT = 15.0
PAUSE = 0.5  # between the halves of a body: time for an early answer to come back
BIG = 200 * 1024  # over the default 64 KiB body limit
SMALL = 32 * 1024  # under it


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@pytest.fixture(scope="module")
def server(migrated_scratch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log: Path = tmp_path_factory.mktemp("early") / "server.log"
    started = Server(migrated_scratch_url, log)
    try:
        started.wait_healthy()
        yield started
    finally:
        started.kill()


def _read_reply(sock: socket.socket) -> Reply:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection before answering (read {buffer!r})")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection in the middle of a body")
        rest += chunk
    return Reply(int(status_line.split()[1]), headers, rest[:length])


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"", length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _send_slowly(sock: socket.socket, request: bytes) -> None:
    """The head and half the body, a pause (cut short when an answer arrives), then the rest."""
    half = len(request) - (len(request) - request.index(b"\r\n\r\n")) // 2
    sock.sendall(request[:half])
    select.select([sock], [], [], PAUSE)
    sock.sendall(request[half:])


def _next_request_works(sock: socket.socket, after: Reply) -> None:
    try:
        sock.sendall(_request("GET", "/health", {}))
        second = _read_reply(sock)
    except OSError as error:  # reset or closed: exactly what breaks a pooling client
        pytest.fail(f"after {after.status} without Connection: close, the next request failed: {error!r}")
    assert second.status == 200, second


def _json_body(size: int) -> bytes:
    return json.dumps({"title": "t", "description": "x" * size}).encode()


def _bearer(user: str) -> str:
    return f"Bearer {make_token(user)}"


def _cases(user: str) -> dict[str, tuple[bytes, int]]:
    json_type = {"Content-Type": "application/json"}
    tasks = f"/api/{user}/tasks"
    return {
        "413 too large": (_request("POST", tasks, {**json_type, "Authorization": _bearer(user)}, _json_body(BIG)), 413),
        "401 big body": (_request("POST", tasks, json_type, _json_body(BIG)), 401),
        "401 small body": (_request("POST", tasks, json_type, _json_body(SMALL)), 401),
        "403 other user": (
            _request("POST", tasks, {**json_type, "Authorization": _bearer("someone_else")}, _json_body(SMALL)),
            403,
        ),
        "415 not json": (
            _request("POST", tasks, {"Content-Type": "text/plain", "Authorization": _bearer(user)}, b"x" * SMALL),
            415,
        ),
        "415 big and not json": (
            _request("POST", tasks, {"Content-Type": "text/plain", "Authorization": _bearer(user)}, b"x" * BIG),
            413,
        ),
        "404 with a body": (_request("POST", "/nowhere", json_type, _json_body(SMALL)), 404),
        "405 with a body": (_request("POST", "/health", json_type, _json_body(SMALL)), 405),
    }


CASES = list(_cases("u"))


@pytest.mark.parametrize("case", CASES)
def test_an_early_answer_leaves_the_connection_usable_or_says_close(server: Server, user: str, case: str) -> None:
    request, status = _cases(user)[case]
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        _send_slowly(sock, request)
        first = _read_reply(sock)
        assert first.status == status, first
        assert json.loads(first.body)["status"] == "error"
        if first.headers.get("connection", "").lower() != "close":
            _next_request_works(sock, first)


def test_a_413_after_the_whole_body_was_sent_at_once_keeps_the_connection(server: Server, user: str) -> None:
    headers = {"Content-Type": "application/json", "Authorization": _bearer(user)}
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        for _ in range(3):
            sock.sendall(_request("POST", f"/api/{user}/tasks", headers, _json_body(BIG)))
            first = _read_reply(sock)
            assert first.status == 413, first
            assert first.headers.get("connection", "").lower() != "close"  # 200 KB is worth draining
            _next_request_works(sock, first)


def test_a_body_too_large_to_drain_gets_connection_close_and_the_server_closes(server: Server, user: str) -> None:
    headers = {"Content-Type": "application/json", "Authorization": _bearer(user)}
    start = _request("POST", f"/api/{user}/tasks", headers, b"x" * BIG, length=64 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(start)
        first = _read_reply(sock)
        assert first.status == 413, first
        assert first.headers.get("connection", "").lower() == "close"
        try:
            rest = sock.recv(65536)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "the server kept the connection open after Connection: close"


def test_a_body_read_in_full_keeps_the_connection_open(server: Server, user: str) -> None:
    """The ordinary case is untouched: no Connection: close after a request whose body was read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        headers = {"Content-Type": "application/json", "Authorization": _bearer(user)}
        for _ in range(2):
            sock.sendall(_request("POST", f"/api/{user}/tasks", headers, _json_body(100)))
            reply = _read_reply(sock)
            assert reply.status == 201, reply
            assert reply.headers.get("connection", "").lower() != "close"
