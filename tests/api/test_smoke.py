from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task


async def test_create_then_get(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, title="  hi  ")
    assert task["title"] == "hi"
    response = await client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    response = await client.patch(f"/api/{user}/tasks/{task['id']}/complete", headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["completed"] is True
    response = await client.patch(f"/api/{user}/tasks/{task['id']}/complete", headers=auth(user), content=b"null")
    assert response.status_code in (415, 422), response.text
    response = await client.patch(f"/api/{user}/tasks/{task['id']}/complete", headers={**auth(user), "content-type": "application/json"}, content=b"null")
    assert response.status_code == 422, response.text
    response = await client.patch(f"/api/{user}/tasks/{task['id']}", headers=auth(user), json={})
    assert response.status_code == 422, response.text
    response = await client.put(f"/api/{user}/tasks/{task['id']}", headers=auth(user), json={"title": "x", "completed": False})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "pending"
    response = await client.delete(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    assert response.status_code == 204, response.text
    response = await client.delete(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    assert response.status_code == 404, response.text
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
