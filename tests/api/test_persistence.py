"""Tasks live in the database, not in the process: a new app instance sees what a closed one wrote."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from tests.helpers import auth, create_task


async def test_a_task_outlives_the_app_that_created_it(settings: Settings, user: str) -> None:
    first = create_app(settings)
    async with AsyncTestClient(first) as client:
        created = await create_task(client, user, title="Survive a restart", tags=["Keep"], priority="high")
        changed = await client.patch(
            f"/api/{user}/tasks/{created['id']}", json={"description": "written before"}, headers=auth(user)
        )
        assert changed.status_code == 200, changed.text
        task = changed.json()["data"]
    assert first.state.gateway._pool.is_closing(), "the first app's lifespan did not close its pool"

    second: Litestar = create_app(settings)
    assert second is not first
    async with AsyncTestClient(second) as client:
        response = await client.get(f"/api/{user}/tasks/{created['id']}", headers=auth(user))
        assert response.status_code == 200, response.text
        assert response.json()["data"] == task
        assert task["version"] == 2 and task["tags"] == ["keep"] and task["description"] == "written before"
        assert response.headers["etag"] == '"2"'

        listing = await client.get(f"/api/{user}/tasks", headers=auth(user))
        assert listing.status_code == 200, listing.text
        assert [t["id"] for t in listing.json()["data"]] == [created["id"]]
        assert listing.json()["meta"]["total"] == 1
