"""ChangesController: GET /api/{user_id}/tasks/changes, the change feed a client syncs from."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from service.feed import DEFAULT_LIMIT, MAX_LIMIT, ChangesEnvelope, page, parse_feed_query
from service.feed_cursors import FeedCursorCodec
from service.task_json import json_response
from service.tasks import UserId, gateway_of

FeedCursor = Annotated[
    str | None,
    QueryParameter(
        required=False,
        description="meta.next_cursor of the previous page or sync; without it, a full sync. "
        "A list cursor, another user's or a changed one is 422; one older than the purge horizon is 410.",
    ),
]
FeedLimit = Annotated[
    str | None,
    QueryParameter(
        required=False,
        description=f"1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}: caps `changed` and `deleted` together",
    ),
]


class ChangesController(Controller):
    # Its own static path: Litestar matches the literal `changes` segment before `/tasks/{task_id}`.
    path = "/api/{user_id:str}/tasks/changes"
    tags = ["sync"]
    security = [{"BearerToken": []}]

    @get(
        summary="Changes since a cursor (sync)",
        description="Without `cursor`, a full sync: every live task (`full_sync` true on every page of the walk). "
        "With one, every task changed and every tombstone after it, each once, in its state as of this read. "
        "Follow `next_cursor` while `has_more` is true; store it when false.",
    )
    async def changes(
        self,
        request: Request[str, Any, Any],
        state: State,
        user_id: UserId,
        cursor: FeedCursor = None,
        limit: FeedLimit = None,
    ) -> Response[ChangesEnvelope]:
        # Parsed from the raw query string, not the arguments: repeated and unknown parameters are 422 too.
        codec: FeedCursorCodec = request.app.state.feed_cursors
        query = parse_feed_query(user_id, request.query_params, codec)
        read = await gateway_of(state).read_changes(user_id, query)
        return json_response(page(user_id, query, read, codec))
