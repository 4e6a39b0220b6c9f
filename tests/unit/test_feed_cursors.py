"""Feed cursors: they round-trip, name the head, and refuse tampering, other users and list cursors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from service.cursors import CursorCodec, cursor_secret
from service.errors import ValidationFailed
from service.feed_cursors import FeedCursorCodec, FeedPosition
from service.listing import parse_list_query
from service.schemas import Task

SECRET = cursor_secret(None, "a-shared-secret-of-at-least-thirty-two-bytes", None)
FEED = FeedCursorCodec(SECRET)


@pytest.mark.parametrize(
    "position",
    [FeedPosition(0), FeedPosition(7, uuid.uuid4()), FeedPosition(12, uuid.uuid4(), 9), FeedPosition(5, None, 5)],
)
def test_a_cursor_round_trips(position: FeedPosition) -> None:
    assert FEED.decode("user_a", FEED.encode("user_a", position)) == position


def test_head_is_an_incremental_position_after_every_change_up_to_seq() -> None:
    position = FEED.decode("user_a", FEED.head("user_a", 42))
    assert position == FeedPosition(42)
    assert not position.full_sync
    assert FeedPosition(3, uuid.uuid4(), walk_head=40).full_sync


def _refused(user_id: str, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        FEED.decode(user_id, cursor)
    assert raised.value.details is not None
    assert [error["field"] for error in raised.value.details["errors"]] == ["cursor"]


def test_another_users_cursor_is_refused() -> None:
    _refused("user_b", FEED.head("user_a", 3))


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    other = FeedCursorCodec(cursor_secret("another-secret", None, None))
    _refused("user_a", other.head("user_a", 3))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: ("X" if c[0] != "X" else "Y") + c[1:],
        lambda c: c.split(".")[0],
        lambda c: "",
        lambda c: ".",
        lambda c: "é" + c,
        lambda c: c + "." + c,
    ],
)
def test_a_tampered_cursor_is_refused(mangle: Callable[[str], str]) -> None:
    _refused("user_a", mangle(FEED.encode("user_a", FeedPosition(8, uuid.uuid4()))))


def test_a_list_cursor_is_not_a_feed_cursor_nor_the_other_way_round() -> None:
    lists = CursorCodec(SECRET)
    now = datetime.now(UTC)
    task = Task(
        uuid.uuid4(),
        "user_a",
        "t",
        None,
        "pending",
        "medium",
        False,
        None,
        [],
        None,
        now,
        now,
        1,
        None,
        "a0",
        None,
        None,
    )
    _refused("user_a", lists.encode("user_a", parse_list_query(b""), task))
    with pytest.raises(ValidationFailed):
        lists.decode("user_a", parse_list_query(b"cursor=" + FEED.head("user_a", 1).encode()))
