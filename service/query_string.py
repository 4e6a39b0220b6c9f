"""A raw query string as name/value pairs, decoded as strict UTF-8.

Litestar decodes percent-escapes with replacement characters, so `?q=%FF` would reach a filter as
"\ufffd". Routes that parse their own query read the raw bytes through here instead: a name or value
that is not UTF-8 is a 422 naming its parameter, never a silently different search.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from service.errors import FieldError

NOT_UTF8 = "must be valid UTF-8 text"


def pairs(raw: bytes) -> tuple[list[tuple[str, str]], list[FieldError]]:
    """(name, value) in order, as the standard form decoding reads them (`+` is a space, blank values kept),
    and an error for each parameter that does not decode."""
    decoded: list[tuple[str, str]] = []
    errors: list[FieldError] = []
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        name, _, value = chunk.partition(b"=")
        try:
            decoded.append((_text(name), _text(value)))
        except UnicodeDecodeError:
            errors.append(FieldError(_text(name, "replace"), NOT_UTF8))
    return decoded, errors


def _text(encoded: bytes, errors: str = "strict") -> str:
    return unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8", errors)
