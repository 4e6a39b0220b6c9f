"""POST /api/{user_id}/tasks/batch: many writes in one request and one transaction (offline replays).

Each operation runs its single route's own code (service.tasks) and SQL, on the batch's connection, so it
follows exactly that route's rules. The transaction locks the user's change counter before the first
operation and holds it to the commit: the batch takes one change number and sends one event (see
sql/fragments/bump_counter.sql), and it queues with the user's other writers instead of deadlocking them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from service import batch_docs, tasks
from service.body import decode, decode_first, require_json
from service.errors import BatchAborted, ServiceError
from service.gateway import Gateway, Idempotency, Transaction
from service.schemas import Task, TaskCompletion, TaskCreate, TaskMove, TaskPatch, TaskReplace

MAX_OPERATIONS = 100
# An operation's `data` is kept as raw JSON while the envelope is decoded, then decoded by its own route's
# rules when it runs: a bad `data` fails that operation alone, a bad envelope the whole request.
_NO_DATA = msgspec.Raw(b"null")


class _Operation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="op"):
    pass


class CreateOp(_Operation, tag="create"):
    data: msgspec.Raw


class UpdateOp(_Operation, tag="update"):
    id: str
    data: msgspec.Raw
    if_match: str | None = None


class ReplaceOp(_Operation, tag="replace"):
    id: str
    data: msgspec.Raw
    if_match: str | None = None


class CompleteOp(_Operation, tag="complete"):
    id: str
    data: msgspec.Raw = _NO_DATA
    if_match: str | None = None


class MoveOp(_Operation, tag="move"):
    id: str
    data: msgspec.Raw
    if_match: str | None = None


class DeleteOp(_Operation, tag="delete"):
    id: str
    if_match: str | None = None


Operation = CreateOp | UpdateOp | ReplaceOp | CompleteOp | MoveOp | DeleteOp


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    operations: Annotated[list[Operation], Meta(min_length=1, max_length=MAX_OPERATIONS)]
    atomic: bool = False


class OperationError(msgspec.Struct, frozen=True):
    code: str
    message: str
    details: dict[str, Any] | None


class Result(msgspec.Struct, frozen=True, omit_defaults=True):
    """One operation's answer: `task` (null for a delete) when it succeeded, `error` when it failed."""

    status: int
    task: Task | UnsetType | None = UNSET
    error: OperationError | UnsetType = UNSET

    @classmethod
    def failed(cls, error: ServiceError) -> Result:
        return cls(error.status_code, error=OperationError(error.code, error.message, error.details))


class BatchEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    status: str = "success"
    data: list[Result]


_encoder = msgspec.json.Encoder()


async def run(gateway: Gateway, user_id: str, batch: BatchRequest, idempotency: Idempotency | None) -> bytes:
    """The answer's body: the batch committed, or the answer kept for its Idempotency-Key (nothing ran)."""
    async with gateway.transaction(user_id) as transaction:
        if idempotency is not None and (kept := await transaction.claim_batch_key(user_id, idempotency)):
            return kept
        results: list[Result] = []
        for index, operation in enumerate(batch.operations):
            if batch.atomic:
                try:
                    result = await _apply(transaction, user_id, operation)
                except ServiceError as error:
                    if error.status_code >= 500:
                        raise
                    raise BatchAborted(index, error) from error  # leaving the block rolls everything back
            else:
                result = await _attempt(transaction, user_id, operation)
            results.append(result)
        body = _encoder.encode(BatchEnvelope(data=results))
        if idempotency is not None:
            await transaction.keep_batch_answer(user_id, idempotency.key, body)
    return body


async def _attempt(transaction: Transaction, user_id: str, operation: Operation) -> Result:
    """One operation's result, in a savepoint, so a failure changes nothing and the batch goes on."""
    try:
        async with transaction.savepoint():
            return await _apply(transaction, user_id, operation)
    except ServiceError as error:
        if error.status_code >= 500:
            raise  # the database is gone: the whole batch fails, nothing is applied
        return Result.failed(error)


async def _apply(gateway: Gateway, user_id: str, operation: Operation) -> Result:
    if isinstance(operation, CreateOp):
        return Result(HTTP_201_CREATED, await gateway.create_task(user_id, decode(operation.data, TaskCreate)))
    if isinstance(operation, UpdateOp):
        data = decode(operation.data, TaskPatch)
        return Result(HTTP_200_OK, await tasks.update(gateway, user_id, operation.id, data, operation.if_match))
    if isinstance(operation, ReplaceOp):
        body = decode(operation.data, TaskReplace)
        return Result(HTTP_200_OK, await tasks.replace(gateway, user_id, operation.id, body, operation.if_match))
    if isinstance(operation, CompleteOp):
        completion = None if operation.data == _NO_DATA else decode(operation.data, TaskCompletion)
        task = await tasks.complete(gateway, user_id, operation.id, completion, operation.if_match)
        return Result(HTTP_200_OK, task)
    if isinstance(operation, MoveOp):
        where = decode(operation.data, TaskMove)
        return Result(HTTP_200_OK, await tasks.move(gateway, user_id, operation.id, where, operation.if_match))
    await tasks.remove(gateway, user_id, operation.id, operation.if_match)
    return Result(HTTP_204_NO_CONTENT, None)


async def _batch(
    request: Request[str, Any, Any], state: State, user_id: tasks.UserId, idempotency_key: tasks.IdempotencyKey = None
) -> Response[bytes]:
    raw = await request.body()  # at most MAX_BATCH_BYTES: Litestar answers 413 beyond it
    require_json(request.headers.get("content-type"))
    batch = decode_first(raw, BatchRequest)
    idempotency = None
    if idempotency_key is not None:
        idempotency = Idempotency(tasks.check_key(idempotency_key), tasks.body_digest(raw))
    body = await run(tasks.gateway_of(state), user_id, batch, idempotency)
    return Response(body, media_type="application/json")


def batch_route(max_bytes: int) -> HTTPRouteHandler:
    """The route, with its own body limit (the single routes keep MAX_BODY_BYTES)."""
    return post(
        "/api/{user_id:str}/tasks/batch",
        summary="Run many writes in one transaction",
        description=batch_docs.DESCRIPTION,
        tags=["tasks"],
        security=[{"BearerToken": []}],
        status_code=HTTP_200_OK,
        request_max_body_size=max_bytes,
        responses={200: batch_docs.success(BatchEnvelope)},  # registers the schema; service.openapi the rest
        operation_class=batch_docs.BatchOperation,
    )(_batch)
