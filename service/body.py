"""JSON request bodies: strict media type, one fast msgspec decode, and a full error report when it fails.

msgspec stops at the first bad field, but the contract lists every bad field. So the fast path decodes
straight into the struct; only when that fails is the raw body re-checked field by field.
"""

from __future__ import annotations

import re
from typing import Any, Generic, Literal, TypeVar

import msgspec
from litestar.dto import DTOConfig, MsgspecDTO
from msgspec import NODEFAULT, UNSET, UnsetType

from service import jsontypes
from service.errors import FieldError, UnsupportedMediaType, ValidationFailed
from service.schemas import CLEANERS, ITEM_ERRORS, SERVER_OWNED, FieldValueError, check_completed, check_recurrence

S = TypeVar("S", bound=msgspec.Struct)

_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_PATH = re.compile(r" - at `\$((?:\[\d+\]|\.\w+)*)`$")
_TICKS = re.compile(r"`([^`]*)`")


def require_json(content_type: str | None) -> None:
    """A non-empty body must say it is JSON; parameters such as charset are fine."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType()


def decode(raw: bytes, kind: type[S]) -> S:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(raw)  # type: ignore[no-any-return]
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        raise report(raw, kind) from None


def decode_first(raw: bytes, kind: type[S]) -> S:
    """As decode, naming only msgspec's first error: for a struct holding raw JSON (msgspec.Raw), which the
    field-by-field report cannot check again from the parsed document."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(raw)  # type: ignore[no-any-return]
    except msgspec.ValidationError as error:
        problem = _from_msgspec("", str(error))
        if not problem.field:  # the body itself is no JSON object: the usual message
            raise report(raw, kind) from None
        raise ValidationFailed.of([FieldError(problem.field.removeprefix("."), problem.message)]) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise report(raw, kind) from None


def report(raw: bytes, kind: type[msgspec.Struct]) -> ValidationFailed:
    """Why `raw` is not a valid `kind`: every bad field, or the whole body when it is not a JSON object."""
    try:
        document = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return ValidationFailed("The body is not valid JSON (or not valid UTF-8).")
    except RecursionError:
        return ValidationFailed("The body is nested too deeply.")
    if not isinstance(document, dict):
        return ValidationFailed("The body must be a JSON object.")
    errors = _field_errors(document, kind)
    if not errors:  # the struct rejected something the field rules did not name; say so plainly
        return ValidationFailed("The body is not valid for this route.")
    return ValidationFailed.of(errors)


def _field_errors(document: dict[str, Any], kind: type[msgspec.Struct]) -> list[FieldError]:
    fields = {f.name: f for f in msgspec.structs.fields(kind)}
    errors = [_unknown(name) for name in document if name not in fields]
    valid: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in document:
            if field.required:
                errors.append(FieldError(name, "is required"))
            continue
        try:
            valid[name] = _check_field(field, document[name])
        except FieldErrors as problems:
            errors.extend(problems.errors)
    errors.extend(_across_fields(valid, fields, invalid={name for name in document if name not in valid}))
    return errors


def _across_fields(
    valid: dict[str, Any], fields: dict[str, msgspec.structs.FieldInfo], invalid: set[str]
) -> list[FieldError]:
    """Rules between two fields, when neither is already reported; an omitted field counts with its default."""

    def value(name: str) -> Any:
        if name in valid:
            return valid[name]
        field = fields.get(name)
        return UNSET if field is None or field.required or field.default_factory is not NODEFAULT else field.default

    errors = []
    pairs = ((check_completed, "status", "completed"), (check_recurrence, "recurrence", "due_date"))
    for check, first, second in pairs:
        if (first in valid or second in valid) and not invalid & {first, second}:
            try:
                check(value(first), value(second))
            except FieldValueError as error:
                errors.append(FieldError(error.field, error.message))
    return errors


class FieldErrors(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors


def _unknown(name: str) -> FieldError:
    if name in SERVER_OWNED:
        return FieldError(name, "is set by the server and cannot be sent")
    return FieldError(name, "is not a known field")


def _check_field(field: msgspec.structs.FieldInfo, raw: Any) -> Any:
    """The cleaned value of one field, or FieldErrors naming each problem (each bad tag on its own)."""
    container, item_check = ITEM_ERRORS.get(field.name, (type(None), None))
    if item_check is not None and isinstance(raw, container) and (item_errors := item_check(raw)):
        raise FieldErrors([FieldError(f, m) for f, m in item_errors])
    try:
        value = msgspec.convert(raw, _without_unset(field.type))
        cleaner = CLEANERS.get(field.name)
        return value if cleaner is None else cleaner(value)
    except FieldValueError as error:
        raise FieldErrors([FieldError(error.field, error.message)]) from None
    except (msgspec.ValidationError, ValueError) as error:
        raise FieldErrors([_from_msgspec(field.name, str(error), _choices(field.type))]) from None


def _without_unset(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if args and UnsetType in args:
        rest = tuple(a for a in args if a is not UnsetType)
        union = rest[0]
        for arg in rest[1:]:
            union = union | arg
        return union
    return annotation


def _choices(annotation: Any) -> tuple[str, ...]:
    for arg in (annotation, *getattr(annotation, "__args__", ())):
        if getattr(arg, "__origin__", None) is Literal:
            return tuple(arg.__args__)
    return ()


def _from_msgspec(name: str, message: str, choices: tuple[str, ...] = ()) -> FieldError:
    """`Expected `str`, got `int` - at `$[2]`` becomes field `tags[2]`, message `expected string, got integer`."""
    if choices and message.startswith("Invalid enum value"):
        return FieldError(name, "must be one of: " + ", ".join(choices))
    field = name
    if (match := _PATH.search(message)) is not None:
        field = name + match.group(1)
        message = message[: match.start()]
    message = _TICKS.sub(lambda ticked: jsontypes.rename(ticked.group(1)), message)
    return FieldError(field, message[:1].lower() + message[1:])


class JsonBody(MsgspecDTO[S], Generic[S]):
    """Litestar DTO that documents the struct in OpenAPI but decodes with the strict rules above."""

    # msgspec's rename (`from_` is `from` on the wire) is not seen by the DTO's schema of a nested struct.
    config = DTOConfig(rename_strategy=lambda name: "from" if name == "from_" else name)

    def decode_bytes(self, value: bytes) -> Any:
        require_json(self.asgi_connection.headers.get("content-type"))
        return decode(value, self.model_type)
