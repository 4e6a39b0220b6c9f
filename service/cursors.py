"""List cursors: opaque, signed, and bound to their user, filters and sort.

A cursor is base64url(JSON [key, id]) "." base64url(HMAC-SHA256(secret, user | filters | payload)).
The signature binds it to its user, filters and sort: a changed, foreign or mismatched cursor is a
422. Even a forged one could only move the page start: every statement filters by the token's user.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
from datetime import datetime
from uuid import UUID

import msgspec

from service.errors import FieldError, ValidationFailed
from service.list_sql import SORTS, sort_key
from service.listing import ListQuery, iso
from service.schemas import Task


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, user_id: str, query: ListQuery, task: Task) -> str:
        key = sort_key(SORTS[query.sort], task)
        payload = msgspec.json.encode([iso(key) if isinstance(key, datetime) else key, str(task.id)])
        return _b64(payload) + "." + _b64(self._sign(user_id, query, payload))

    def decode(self, user_id: str, query: ListQuery) -> ListQuery:
        """The query with `after` set from its verified cursor, or 422 naming `cursor`."""
        if query.cursor is None:
            return query
        try:
            body, _, signature = query.cursor.partition(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(signature), self._sign(user_id, query, payload)):
                raise ValueError("signature")
            key, task_id = msgspec.json.decode(payload)
            after = (msgspec.convert(key, SORTS[query.sort].key_type), UUID(task_id))
        except (ValueError, TypeError, binascii.Error, msgspec.DecodeError):
            raise ValidationFailed.of(
                [FieldError("cursor", "is not valid for this user, these filters and this sort; start without it")]
            ) from None
        return dataclasses.replace(query, after=after)

    def _sign(self, user_id: str, query: ListQuery, payload: bytes) -> bytes:
        message = b"\x00".join([user_id.encode(), query.fingerprint(), payload])
        return hmac.new(self._secret, message, hashlib.sha256).digest()


def cursor_secret(explicit: str | None, jwt_secret: str | None, database_url: str | None) -> bytes:
    """CURSOR_SECRET, else one derived from a secret every instance shares, so any worker reads any cursor."""
    seed = explicit or jwt_secret or database_url or ""
    return hashlib.sha256(b"tasks-cursor\x00" + seed.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
