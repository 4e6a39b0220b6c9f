-- The task as the API returns it, for row_to_json: `CROSS JOIN LATERAL ({task_json}) AS task_json` after a row of `{task_columns}`.
-- Field order, names and values are service.schemas.Task's as msgspec encodes it, compact: timestamps in UTC
-- with a Z and microseconds only when not zero, recurrence's keys in its struct's order. The colons of the
-- timestamp format are quoted text, so pgbench (which runs tasks/get in the bench) sees no variable there.
SELECT id, user_id, title, description, status, priority, completed,
       replace(to_char(due_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') AS due_date,
       tags,
       replace(to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') AS completed_at,
       replace(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') AS created_at,
       replace(to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') AS updated_at,
       version, parent_id, position,
       ('{"rule":' || (recurrence -> 'rule')::text || ',"timezone":' || (recurrence -> 'timezone')::text
        || ',"from":' || (recurrence -> 'from')::text || '}')::json AS recurrence,
       replace(to_char(last_completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') AS last_completed_at
