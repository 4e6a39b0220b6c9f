"""The request id: the client's X-Request-ID when safe to echo, else a fresh random version-4 UUID."""

from __future__ import annotations

import os
import uuid

from service.logs import new_request_id, request_id


def _scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"type": "http", "headers": list(headers)}


def test_a_safe_incoming_id_is_echoed() -> None:
    assert request_id(_scope((b"accept", b"*/*"), (b"x-request-id", b"trace-me.42"))) == "trace-me.42"  # type: ignore[arg-type]


def test_an_unsafe_or_missing_id_is_replaced_by_a_version_4_uuid() -> None:
    for scope in (_scope(), _scope((b"x-request-id", b"bad id\n")), _scope((b"x-request-id", b"x" * 129))):
        rid = request_id(scope)  # type: ignore[arg-type]
        parsed = uuid.UUID(rid)
        assert (str(parsed), parsed.version, parsed.variant) == (rid, 4, uuid.RFC_4122)


def test_new_ids_differ_also_across_forked_workers() -> None:
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a granian worker is a fork of one parent: its ids must not repeat the parent's
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        from_child = pipe.read()
    assert from_child != new_request_id() and uuid.UUID(from_child).version == 4
