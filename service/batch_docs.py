"""The batch route's OpenAPI: its request body, answers and examples.

The handler decodes the body itself (each operation's `data` stays raw until its own route's rules decode
it), so the request body is described here by structs that say what each `data` is: its single route's
body. Their JSON Schema is inlined, since Litestar names its own components differently per app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIMediaType, Operation, RequestBody, Schema
from msgspec import Meta

from service import examples
from service.schemas import TaskCompletion, TaskCreate, TaskMove, TaskPatch, TaskReplace

DESCRIPTION = (
    "1 to 100 operations (`create`, `update` = PATCH, `replace` = PUT, `complete`, `move`, `delete`), run in order in "
    "one transaction, each seeing the ones before it and following its single route's rules. The answer holds one "
    "result per operation. With `atomic: false` (default) a failed operation changes nothing and the rest still "
    "run; with `atomic: true` the first failure undoes the batch (409 `BATCH_ABORTED`). A malformed envelope is "
    "422 and nothing runs. The body may be up to MAX_BATCH_BYTES (default 1 MiB). The batch advances the change "
    "feed once and sends one live event. `Idempotency-Key`: a repeat with the same body answers the first "
    "answer again and runs nothing."
)

# -- the request body, as msgspec describes these structs (the decoder keeps each `data` raw instead) ----

_Id = Annotated[str, Meta(description="the task's UUID; unknown, malformed or another user's: 404 for this operation")]
_IfMatch = Annotated[str | None, Meta(description='`"<version>"` or `*`, as the If-Match header: else 412')]


class _Op(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="op"):
    pass


class CreateOperation(_Op, tag="create"):
    data: TaskCreate


class UpdateOperation(_Op, tag="update"):
    id: _Id
    data: TaskPatch
    if_match: _IfMatch = None


class ReplaceOperation(_Op, tag="replace"):
    id: _Id
    data: TaskReplace
    if_match: _IfMatch = None


class CompleteOperation(_Op, tag="complete"):
    id: _Id
    data: TaskCompletion | None = None
    if_match: _IfMatch = None


class MoveOperation(_Op, tag="move"):
    id: _Id
    data: TaskMove
    if_match: _IfMatch = None


class DeleteOperation(_Op, tag="delete"):
    id: _Id
    if_match: _IfMatch = None


class Batch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    operations: Annotated[
        list[
            CreateOperation | UpdateOperation | ReplaceOperation | CompleteOperation | MoveOperation | DeleteOperation
        ],
        Meta(min_length=1, max_length=100),
    ]
    atomic: bool = False


def _inline(node: Any, components: dict[str, Any]) -> Any:
    """The schema with every reference replaced by what it names: the document needs no components of ours."""
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(components[node["$ref"].rsplit("/", 1)[-1]], components)
    return {key: _inline(value, components) for key, value in node.items() if key != "discriminator"}


@dataclass
class _JsonSchema(Schema):
    """A JSON Schema written out as is (Litestar renders its own Schema objects field by field)."""

    document: dict[str, Any] = field(default_factory=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.document


def _request_schema() -> _JsonSchema:
    (root,), components = msgspec.json.schema_components([Batch], ref_template="#/{name}")
    return _JsonSchema(document=_inline(root, components))


REQUEST: dict[str, Any] = {
    "atomic": False,
    "operations": [
        {"op": "create", "data": {"title": "Buy milk", "tags": ["home"]}},
        {"op": "update", "id": examples.TASK["id"], "data": {"priority": "high"}, "if_match": '"3"'},
        {"op": "complete", "id": examples.TASK["id"]},
        {"op": "delete", "id": "9b2e4c1a-0d7f-4e8b-8a31-6c5d2f1e0a93"},
    ],
}

BODY = RequestBody(
    required=True,
    content={
        "application/json": OpenAPIMediaType(
            schema=_request_schema(),
            examples={"offline replay": Example(summary="an offline client's queue", value=REQUEST)},
        )
    },
)


@dataclass
class BatchOperation(Operation):
    """The batch's OpenAPI operation, with the request body above."""

    def __post_init__(self) -> None:
        self.request_body = BODY


def success(envelope: type) -> ResponseSpec:
    return ResponseSpec(envelope, description="One result per operation", generate_examples=False)
