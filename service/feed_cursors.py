"""Feed cursors: opaque, signed, bound to their user, and never mistaken for a list cursor.

A cursor is base64url(JSON [seq, id, walk_head]) "." base64url(HMAC-SHA256(feed key, user | payload)).
The feed key is derived from the list cursors' secret for this purpose only, so a list cursor never
verifies here and a feed cursor never verifies on the list route. A tampered or foreign cursor is a 422.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from uuid import UUID

import msgspec

from service.errors import FieldError, ValidationFailed

_PAYLOAD = tuple[int, UUID | None, int | None]


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Where a walk of the feed stands: every change before (seq, after_id) has been sent.

    after_id None means every change stamped `seq` has been sent too (the position a last page gives).
    walk_head is set while a full sync is under way: the head when it began. Tombstones at or below it
    were deleted before the walk and are not sent (the client never received those tasks); None for an
    incremental walk.
    """

    seq: int
    after_id: UUID | None = None
    walk_head: int | None = None

    @property
    def full_sync(self) -> bool:
        return self.walk_head is not None


class FeedCursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"tasks-feed-cursor", hashlib.sha256).digest()

    def encode(self, user_id: str, position: FeedPosition) -> str:
        after = None if position.after_id is None else str(position.after_id)
        payload = msgspec.json.encode([position.seq, after, position.walk_head])
        return _b64(payload) + "." + _b64(self._sign(user_id, payload))

    def head(self, user_id: str, seq: int) -> str:
        """The cursor meaning "every change with change_seq <= seq has been seen"."""
        return self.encode(user_id, FeedPosition(seq))

    def decode(self, user_id: str, cursor: str) -> FeedPosition:
        """The verified position, or 422 naming `cursor`."""
        try:
            body, _, signature = cursor.partition(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(signature), self._sign(user_id, payload)):
                raise ValueError("signature")
            seq, after_id, walk_head = msgspec.json.decode(payload, type=_PAYLOAD)
            if seq < 0 or (walk_head is not None and walk_head < 0):
                raise ValueError("range")
        except (ValueError, binascii.Error, msgspec.DecodeError, msgspec.ValidationError):
            raise ValidationFailed.of(
                [FieldError("cursor", "is not a change-feed cursor for this user; start a full sync without it")]
            ) from None
        return FeedPosition(seq, after_id, walk_head)

    def _sign(self, user_id: str, payload: bytes) -> bytes:
        user = user_id.encode()
        # Length-prefixed, so no (user, payload) pair can pass for another.
        message = len(user).to_bytes(4, "big") + user + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
