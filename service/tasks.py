"""TaskController: the /api/{user_id}/tasks routes. Each handler parses, calls one gateway method, answers."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.params import HeaderParameter, JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

from service.body import JsonBody
from service.cursors import CursorCodec
from service.errors import FieldError, TaskNotFound, ValidationFailed
from service.gateway import Gateway, Idempotency
from service.listing import ListOperation, parse_list_query
from service.schemas import (
    ListMeta,
    Task,
    TaskCompletion,
    TaskCreate,
    TaskEnvelope,
    TaskListEnvelope,
    TaskMove,
    TaskPatch,
    TaskReplace,
)
from service.task_json import TaskJson, TaskListJson, json_response

# ETags are never equal to this, so a malformed If-Match fails as a precondition, after the 404 check.
_NO_VERSION_MATCHES = -1


def gateway_of(state: State) -> Gateway:
    """The app's gateway. Read from Litestar's `state` kwarg rather than injected as a dependency:
    dependency resolution measured ~60 us of CPU per request, about a tenth of a get-one."""
    gateway: Gateway = state.gateway
    return gateway


def parse_task_id(task_id: str) -> UUID:
    """A malformed id names no task: 404 TASK_NOT_FOUND, exactly as an unknown one."""
    try:
        return UUID(task_id)
    except ValueError:
        raise TaskNotFound() from None


def check_key(key: str) -> str:
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed.of(
            [FieldError("Idempotency-Key", "must be 1 to 255 visible ASCII characters, no spaces")]
        )
    return key


def body_digest(raw: bytes) -> bytes:
    """The same JSON, whatever its key order or spacing, has the same digest."""
    canonical = msgspec.json.encode(msgspec.json.decode(raw), order="sorted")
    return hashlib.sha256(canonical).digest()


def etag(task: Task) -> str:
    return etag_of(task.version)


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """`"<version>"` (weak or strong) or `*`; anything else can never match."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isascii() and tag.isdigit() and len(tag) < 10 else _NO_VERSION_MATCHES


def none_match(value: str | None, tag: str) -> bool:
    """Whether If-None-Match names the entity tag `tag` (weak or strong), or is `*`."""
    if value is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in value.split(",")}
    return "*" in tags or tag in tags


# -- the write routes' rules, shared with the batch (each operation follows its single route) ------------


async def replace(gateway: Gateway, user_id: str, task_id: str, data: TaskReplace, if_match: str | None) -> Task:
    return await gateway.update_task(user_id, parse_task_id(task_id), data.binds(), if_match=parse_if_match(if_match))


async def update(gateway: Gateway, user_id: str, task_id: str, data: TaskPatch, if_match: str | None) -> Task:
    task_uuid = parse_task_id(task_id)
    if data.is_empty():
        raise ValidationFailed("The body must change at least one field.")
    return await gateway.update_task(user_id, task_uuid, data.binds(), if_match=parse_if_match(if_match))


async def complete(
    gateway: Gateway, user_id: str, task_id: str, data: TaskCompletion | None, if_match: str | None
) -> Task:
    task_uuid = parse_task_id(task_id)
    change = (data or TaskCompletion()).binds()
    return await gateway.update_task(user_id, task_uuid, change, if_match=parse_if_match(if_match))


async def move(gateway: Gateway, user_id: str, task_id: str, data: TaskMove, if_match: str | None) -> Task:
    return await gateway.move_task(user_id, parse_task_id(task_id), data, if_match=parse_if_match(if_match))


async def remove(gateway: Gateway, user_id: str, task_id: str, if_match: str | None) -> None:
    await gateway.delete_task(user_id, parse_task_id(task_id), if_match=parse_if_match(if_match))


def task_response(
    task: Task, status_code: int = HTTP_200_OK, headers: dict[str, str] | None = None
) -> Response[TaskEnvelope]:
    return Response(TaskEnvelope(data=task), status_code=status_code, headers={"ETag": etag(task), **(headers or {})})


UserId = Annotated[str, PathParameter(description="The token's user; any other is 403 FORBIDDEN")]
TaskId = Annotated[str, PathParameter(description="The task's UUID; an unknown or malformed id is 404 TASK_NOT_FOUND")]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='`"<version>"` (or `W/"<version>"`, or `*`): write only if the task is at that version, '
        "else 412; any other value never matches",
    ),
]
IfNoneMatch = Annotated[
    str | None, HeaderParameter(name="If-None-Match", required=False, description="304 Not Modified when it matches")
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="1-255 visible ASCII characters: a repeat (same user, same body, within 24 h) returns the "
        "first task; the same key with another body is 409",
    ),
]


# The OpenAPI document states the same pattern.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class TaskController(Controller):
    path = "/api/{user_id:str}/tasks"
    tags = ["tasks"]
    security = [{"BearerToken": []}]
    return_dto = None  # handlers build their Response; JsonBody DTOs only decode request bodies

    @get(
        summary="List tasks",
        description="The user's live tasks, newest first. `meta.total` counts every match.",
        operation_class=ListOperation,
    )
    async def list_tasks(
        self, request: Request[str, Any, Any], state: State, user_id: UserId
    ) -> Response[TaskListEnvelope]:
        # Parsed from the raw query string: repeated, unknown and non-UTF-8 parameters are 422 too.
        codec: CursorCodec = request.app.state.cursors
        query = codec.decode(user_id, parse_list_query(request.scope["query_string"]))
        page = await gateway_of(state).list_tasks(user_id, query)
        tasks, last = page.split(query.limit)
        next_cursor = None if last is None else codec.encode(user_id, query, last)
        meta = ListMeta(total=page.total, limit=query.limit, next_cursor=next_cursor)
        return json_response(TaskListJson(data=tasks, meta=meta))

    @post(
        summary="Create a task",
        dto=JsonBody[TaskCreate],
        status_code=HTTP_201_CREATED,
    )
    async def create_task(
        self,
        request: Request[str, Any, Any],
        state: State,
        data: JSONBody[TaskCreate],
        user_id: UserId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskEnvelope]:
        idempotency = None
        if idempotency_key is not None:
            idempotency = Idempotency(check_key(idempotency_key), body_digest(await request.body()))
        task = await gateway_of(state).create_task(user_id, data, idempotency=idempotency)
        location = f"/api/{quote(user_id, safe='')}/tasks/{task.id}"
        return task_response(task, HTTP_201_CREATED, {"Location": location})

    @get(
        "/{task_id:str}",
        summary="Get a task",
    )
    async def get_task(
        self,
        state: State,
        task_id: TaskId,
        user_id: UserId,
        if_none_match: IfNoneMatch = None,
    ) -> Response[TaskEnvelope]:
        task = await gateway_of(state).get_task(user_id, parse_task_id(task_id))
        tag = etag_of(task.version)
        if none_match(if_none_match, tag):
            return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": tag})  # type: ignore[arg-type]
        return json_response(TaskJson(data=msgspec.Raw(task.task)), {"ETag": tag})

    @put(
        "/{task_id:str}",
        summary="Replace a task",
        description="Full replace: omitted optional fields go back to their defaults.",
        dto=JsonBody[TaskReplace],
    )
    async def replace_task(
        self,
        state: State,
        data: JSONBody[TaskReplace],
        task_id: TaskId,
        user_id: UserId,
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        return task_response(await replace(gateway_of(state), user_id, task_id, data, if_match))

    @patch(
        "/{task_id:str}",
        summary="Update some fields of a task",
        description="Only the fields present change; `null` clears `description` and `due_date`.",
        dto=JsonBody[TaskPatch],
    )
    async def patch_task(
        self,
        state: State,
        data: JSONBody[TaskPatch],
        task_id: TaskId,
        user_id: UserId,
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        return task_response(await update(gateway_of(state), user_id, task_id, data, if_match))

    @patch(
        "/{task_id:str}/complete",
        summary="Toggle or set completion",
        description='No body (or `{}`) toggles; `{"completed": true|false}` sets it.',
        dto=JsonBody[TaskCompletion],
    )
    async def complete_task(
        self,
        state: State,
        task_id: TaskId,
        user_id: UserId,
        data: JSONBody[TaskCompletion | None] = None,
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        return task_response(await complete(gateway_of(state), user_id, task_id, data, if_match))

    @post(
        "/{task_id:str}/move",
        summary="Move a task among its siblings, or to another parent",
        description="Right after `after_id` (null: first) under `parent_id` (omitted: the same parent). "
        "Moving a task to where it already is changes nothing.",
        dto=JsonBody[TaskMove],
        return_dto=None,
        status_code=HTTP_200_OK,
    )
    async def move_task(
        self,
        state: State,
        data: JSONBody[TaskMove],
        task_id: TaskId,
        user_id: UserId,
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        return task_response(await move(gateway_of(state), user_id, task_id, data, if_match))

    @delete(
        "/{task_id:str}",
        summary="Delete a task",
        description="Soft delete: the task disappears from every read; a second DELETE is 404.",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_task(
        self,
        state: State,
        task_id: TaskId,
        user_id: UserId,
        if_match: IfMatch = None,
    ) -> None:
        await remove(gateway_of(state), user_id, task_id, if_match)
