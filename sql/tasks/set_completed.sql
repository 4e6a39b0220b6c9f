-- PATCH .../complete: toggle completion, or set it; a request that changes nothing leaves the version alone.
-- $1 user_id
-- $2 task_id
-- $3 expected_version (null: no If-Match)
-- $4 completed (null: toggle)
WITH current AS (
    SELECT *
    FROM tasks
    WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
    FOR UPDATE
), proposed AS (
    SELECT CASE
               WHEN coalesce($4::boolean, c.status <> 'completed') THEN 'completed'
               WHEN c.status = 'completed' THEN 'pending'
               ELSE c.status
           END AS status
    FROM current AS c
), changed AS (
    -- Compared with the locked row (the latest committed task), never the statement's older snapshot,
    -- so concurrent toggles each take effect in turn.
    SELECT p.status
    FROM proposed AS p, current AS c
    WHERE c.status IS DISTINCT FROM p.status
), updated AS (
    UPDATE tasks AS t
    SET status = p.status,
        completed_at = CASE WHEN p.status = 'completed' THEN coalesce(t.completed_at, now()) END,
        version = t.version + 1, updated_at = now()
    FROM changed AS p
    WHERE t.user_id = $1 AND t.id = $2
      AND ($3::integer IS NULL OR t.version = $3::integer)
    RETURNING t.*
)
SELECT 'changed' AS outcome, id, user_id, title, description, status, priority,
       status = 'completed' AS completed, due_date, tags, completed_at, created_at, updated_at, version
FROM updated
UNION ALL
SELECT CASE WHEN $3::integer IS NOT NULL AND version <> $3::integer THEN 'stale' ELSE 'unchanged' END,
       id, user_id, title, description, status, priority,
       status = 'completed' AS completed, due_date, tags, completed_at, created_at, updated_at, version
FROM current
WHERE NOT EXISTS (SELECT FROM updated)
