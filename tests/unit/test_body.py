"""Request bodies: the fast decode, the full error report, the media type check and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from msgspec import UNSET

from service.body import decode, report, require_json
from service.errors import UnsupportedMediaType, ValidationFailed
from service.schemas import TaskCompletion, TaskCreate, TaskPatch, TaskReplace, parse_timestamp


def _failure(raw: bytes, kind: type[msgspec.Struct] = TaskCreate) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        decode(raw, kind)
    error = caught.value
    assert (error.status_code, error.code) == (422, "VALIDATION_ERROR")
    assert error.message and "\n" not in error.message
    return error


def _errors(raw: bytes, kind: type[msgspec.Struct] = TaskCreate) -> dict[str, str]:
    """field -> message of every reported error; each field is reported once."""
    details = _failure(raw, kind).details
    assert details is not None
    errors: list[dict[str, Any]] = details["errors"]
    assert all(set(e) == {"field", "message"} for e in errors)
    fields = [e["field"] for e in errors]
    assert len(fields) == len(set(fields)), fields
    for e in errors:
        assert e["message"] and "`" not in e["message"] and "$." not in e["message"], e
    return {e["field"]: e["message"] for e in errors}


# -- the fast path ------------------------------------------------------------------------------


def test_decode_trims_title_and_merges_tags() -> None:
    task = decode(b'{"title": " \\u2003 Write it\\n ", "tags": ["Work", " work ", "Q1", "WORK", "home"]}', TaskCreate)
    assert isinstance(task, TaskCreate)
    assert task.title == "Write it"
    assert task.tags == ["work", "q1", "home"]
    assert (task.description, task.priority, task.status, task.due_date) == (None, "medium", UNSET, None)


def test_decode_blank_description_becomes_null() -> None:
    assert decode(b'{"title": "x", "description": "   "}', TaskCreate).description is None
    assert decode(b'{"title": "x", "description": " d "}', TaskCreate).description == "d"


def test_lengths_count_characters() -> None:
    title = "é" * 500  # 1000 bytes, 500 characters
    assert decode(msgspec.json.encode({"title": title}), TaskCreate).title == title
    assert set(_errors(msgspec.json.encode({"title": title + "é"}))) == {"title"}


def test_tag_limit_counts_after_merging() -> None:
    tags = [f"t{i}" for i in range(20)] + [f"T{i}" for i in range(5)]
    assert len(decode(msgspec.json.encode({"title": "x", "tags": tags}), TaskCreate).tags) == 20
    assert set(_errors(msgspec.json.encode({"title": "x", "tags": [f"t{i}" for i in range(21)]}))) == {"tags"}


def test_surrogate_pair_is_fine() -> None:
    assert decode(b'{"title": "\\ud83d\\ude00"}', TaskCreate).title == "\U0001f600"


def test_patch_keeps_absent_fields_unset() -> None:
    patch = decode(b'{"description": null}', TaskPatch)
    assert patch.description is None
    assert patch.title is UNSET and patch.tags is UNSET
    assert not patch.is_empty()
    assert decode(b"{}", TaskPatch).is_empty()


# -- the full error report ----------------------------------------------------------------------


def test_every_bad_field_is_listed() -> None:
    raw = b'{"title": " ", "priority": "urgent", "status": "done", "tags": "x", "due_date": "2026-03-01T17:00:00"}'
    assert set(_errors(raw)) == {"title", "priority", "status", "tags", "due_date"}


def test_missing_title_is_required() -> None:
    assert set(_errors(b'{"description": "d"}')) == {"title"}
    assert set(_errors(b"{}", TaskReplace)) == {"title"}


def test_unknown_field_is_named() -> None:
    assert set(_errors(b'{"title": "x", "titel": "y"}')) == {"titel"}
    assert set(_errors(b'{"complete": true}', TaskCompletion)) == {"complete"}


@pytest.mark.parametrize("field", ["id", "user_id", "created_at", "updated_at", "completed_at", "version"])
def test_server_owned_field_is_rejected(field: str) -> None:
    raw = msgspec.json.encode({"title": "x", field: "2026-03-01T17:00:00Z"})
    assert set(_errors(raw)) == {field}
    assert set(_errors(msgspec.json.encode({field: 1}), TaskPatch)) == {field}


def test_tag_items_are_named_by_index() -> None:
    errors = _errors(b'{"title": "x", "tags": ["a", "b", "c", "  ", 5, "' + b"y" * 51 + b'"]}')
    assert set(errors) == {"tags[3]", "tags[4]", "tags[5]"}


def test_bad_tag_item_alongside_other_bad_fields() -> None:
    assert set(_errors(b'{"title": "", "tags": ["ok", "a\\u0000"]}')) == {"title", "tags[1]"}


@pytest.mark.parametrize("field", ["title", "description"])
def test_nul_is_rejected(field: str) -> None:
    raw = msgspec.json.encode({"title": "x", field: "a\x00b"})
    assert set(_errors(raw)) == {field}


def test_nul_in_tag_is_rejected() -> None:
    assert set(_errors(b'{"title": "x", "tags": ["a\\u0000"]}')) == {"tags[0]"}


@pytest.mark.parametrize("field", ["tags", "priority", "status"])
def test_null_is_rejected_where_it_means_nothing(field: str) -> None:
    assert set(_errors(msgspec.json.encode({"title": "x", field: None}))) == {field}
    assert set(_errors(msgspec.json.encode({field: None}), TaskPatch)) == {field}


JSON_VALUES = {
    "string": '"x"',
    "integer": "1",
    "number": "1.5",
    "boolean": "true",
    "null": "null",
    "array": "[]",
    "object": "{}",
}
PYTHON_NAMES = ("str", "int", "float", "bool", "NoneType", "list", "dict")


def _json_named(message: str) -> None:
    assert not set(PYTHON_NAMES) & set(message.replace(",", " ").split()), message


TYPE_MISMATCHES = [
    (field, wanted, got)
    for field, wanted in (("title", "string"), ("completed", "boolean"), ("tags", "array"))
    for got in JSON_VALUES
    if got != wanted
]


@pytest.mark.parametrize(("field", "wanted", "got"), TYPE_MISMATCHES)
def test_type_errors_use_json_type_names(field: str, wanted: str, got: str) -> None:
    others = "" if field == "title" else '"title": "x", '
    raw = ("{" + others + '"' + field + '": ' + JSON_VALUES[got] + "}").encode()
    message = _errors(raw)[field]
    assert message == f"expected {wanted}, got {got}"
    _json_named(message)


def test_null_where_a_value_is_required_says_null() -> None:
    errors = _errors(b'{"title": null, "completed": null, "tags": null, "description": 5}')
    assert errors == {
        "title": "expected string, got null",
        "completed": "expected boolean, got null",
        "tags": "expected array, got null",
        "description": "expected string | null, got integer",
    }


def test_tag_items_use_json_type_names() -> None:
    items = [JSON_VALUES[name] for name in JSON_VALUES if name != "string"]
    errors = _errors(f'{{"title": "x", "tags": [{", ".join(items)}]}}'.encode())
    wanted = [name for name in JSON_VALUES if name != "string"]
    assert errors == {f"tags[{i}]": f"expected string, got {name}" for i, name in enumerate(wanted)}


def test_completed_disagreeing_with_status() -> None:
    assert set(_errors(b'{"title": "x", "status": "pending", "completed": true}')) == {"completed"}
    assert decode(b'{"title": "x", "status": "completed", "completed": true}', TaskCreate).status == "completed"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"title": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b'{"title": "\xed\xa0\x80"}', id="encoded-surrogate"),
        pytest.param(b'{"title": "\\ud800"}', id="lone-surrogate-escape"),
        pytest.param(b'{"title": "\\udc00x"}', id="lone-low-surrogate"),
    ],
)
def test_bad_unicode_is_rejected(raw: bytes) -> None:
    _failure(raw)


@pytest.mark.parametrize("raw", [b"[]", b'["title"]', b'"x"', b"42", b"null", b"true"])
def test_non_object_json_is_a_whole_body_error(raw: bytes) -> None:
    assert _failure(raw).details is None


@pytest.mark.parametrize("raw", [b"", b"{", b'{"title": "x",}', b"{'title': 'x'}", b'{"title": "x"} x'])
def test_malformed_json_is_a_whole_body_error(raw: bytes) -> None:
    assert _failure(raw).details is None


def test_report_directly() -> None:
    error = report(b'{"title": 1, "tags": [1, "ok", 2]}', TaskCreate)
    assert isinstance(error, ValidationFailed)
    assert error.details is not None
    assert [e["field"] for e in error.details["errors"]] == ["title", "tags[0]", "tags[2]"]


def test_single_error_names_its_field_in_the_message() -> None:
    assert _failure(b'{"title": ""}').message.startswith("title")


# -- media type ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;"]
)
def test_require_json_accepts(content_type: str) -> None:
    require_json(content_type)


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json"]
)
def test_require_json_rejects(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        require_json(content_type)
    assert caught.value.status_code == 415


# -- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T17:00:00Z", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("2026-03-01t17:00:00z", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("2026-03-01T17:00:00.5Z", datetime(2026, 3, 1, 17, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T17:00:00.1234569Z", datetime(2026, 3, 1, 17, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T17:00:00.999999999+00:00", datetime(2026, 3, 1, 17, 0, 0, 999999, tzinfo=UTC)),
        ("2026-03-01T19:30:00+02:30", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("2026-03-01T01:00:00-05:00", datetime(2026, 3, 1, 6, 0, tzinfo=UTC)),
        ("2026-01-01T00:30:00+01:00", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(value: str, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.utcoffset() is not None and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2026-03-01T17:00:00", id="naive"),
        pytest.param("2026-03-01T17:00:00.123", id="naive-fraction"),
        pytest.param("2026-03-01", id="date-only"),
        pytest.param("2026-03-01T17:00Z", id="no-seconds"),
        pytest.param("2026-3-1T17:00:00Z", id="short-fields"),
        pytest.param("1 March 2026", id="prose"),
        pytest.param("2026-03-01T17:00:00+0200", id="offset-without-colon"),
        pytest.param("2026-03-01T17:00:00Z ", id="trailing-space"),
        pytest.param("", id="empty"),
        pytest.param("2026-02-30T00:00:00Z", id="february-30"),
        pytest.param("2026-13-01T00:00:00Z", id="month-13"),
        pytest.param("2026-01-01T25:00:00Z", id="hour-25"),
        pytest.param("2026-01-01T00:61:00Z", id="minute-61"),
    ],
)
def test_parse_timestamp_rejects(value: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_timestamp(value)


def test_due_date_error_names_the_field() -> None:
    assert set(_errors(b'{"title": "x", "due_date": "2026-02-30T00:00:00Z"}')) == {"due_date"}
    assert decode(b'{"title": "x", "due_date": "2026-02-28T00:00:00+01:00"}', TaskCreate).due_date is not None
