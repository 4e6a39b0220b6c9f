"""`make demo NAME=alice`: a handful of realistic tasks for one user, created through the running API.

Development only (left out of the production image). Each task is sent with an Idempotency-Key, so
running the demo again the same day returns the same tasks instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import httpx

from service import config, devdb
from service.auth import issue_token

# (title, priority, tags, due in days or None, description, completed)
TASKS: tuple[tuple[str, str, list[str], int | None, str | None, bool], ...] = (
    ("Write the quarterly report", "high", ["work", "q1"], 3, "Numbers from finance, then the summary.", False),
    ("Review Sam's pull request", "medium", ["work", "code-review"], 1, None, False),
    ("Book the dentist", "low", ["health"], 10, None, False),
    ("Renew the passport", "high", ["admin", "travel"], 21, "Photo booth first; the form is online.", False),
    ("Buy groceries", "medium", ["home"], 0, "Milk, eggs, coffee, apples.", False),
    ("Plan the team offsite", "medium", ["work", "planning"], None, None, False),
    ("Pay the electricity bill", "high", ["home", "bills"], -2, None, True),
)


def _body(title: str, priority: str, tags: list[str], due_in: int | None, text: str | None, done: bool) -> Any:
    due = None
    if due_in is not None:
        day = dt.datetime.now(dt.UTC).replace(hour=17, minute=0, second=0, microsecond=0)
        due = (day + dt.timedelta(days=due_in)).isoformat()
    return {"title": title, "priority": priority, "tags": tags, "due_date": due, "description": text, "completed": done}


def seed(user: str, base_url: str) -> int:
    devdb.export_secret()  # the key `make run` verifies with, unless one is configured
    settings = config.from_env(need_keys=False)
    if settings.jwt_secret is None:
        raise SystemExit("make demo: needs JWT_SECRET (or BETTER_AUTH_SECRET), the key the server verifies with")
    headers = {"Authorization": f"Bearer {issue_token(settings, user, 300)}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for number, task in enumerate(TASKS):
            key = {"Idempotency-Key": f"demo-{dt.date.today()}-{number}"}
            try:
                response = client.post(f"/api/{user}/tasks", json=_body(*task), headers=key)
            except httpx.TransportError:
                raise SystemExit(f"make demo: no server at {base_url}; start it with `make run`") from None
            if response.status_code != 201:
                raise SystemExit(f"make demo: {response.status_code} {response.text}")
    return len(TASKS)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not argv[0].strip():
        raise SystemExit("usage: python -m service.demo USER_ID BASE_URL")
    user, base_url = argv
    created = seed(user, base_url)
    print(f'{created} tasks for {user}: curl -sS {base_url}/api/{user}/tasks -H "Authorization: Bearer $TOKEN"')


if __name__ == "__main__":
    main(sys.argv[1:])
