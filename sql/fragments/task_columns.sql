-- The task as the API returns it (service.schemas.Task, in field order): every `{task_columns}` in sql/ is this list.
id, user_id, title, description, status, priority, status = 'completed' AS completed,
due_date, tags, completed_at, created_at, updated_at, version, parent_id, position, recurrence, last_completed_at
