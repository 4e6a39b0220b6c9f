-- PUT: set every editable field of a live task; version and updated_at move only when something changes.
-- $1 user_id
-- $2 task_id
-- $3 expected_version (null: no If-Match)
-- $4 title
-- $5 description
-- $6 status (null: keep the current one, but completed becomes pending)
-- $7 priority
-- $8 due_date
-- $9 tags
-- The row is locked first, so the comparison and the version check see the latest committed task.
WITH current AS (
    SELECT *
    FROM tasks
    WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
    FOR UPDATE
), proposed AS (
    SELECT $4::text AS title,
           $5::text AS description,
           coalesce($6::text, CASE WHEN c.status = 'completed' THEN 'pending' ELSE c.status END) AS status,
           $7::text AS priority,
           $8::timestamptz AS due_date,
           $9::text[] AS tags
    FROM current AS c
), changed AS (
    -- Compared with the locked row (the latest committed task), never the statement's older snapshot,
    -- so a write racing another one is neither lost nor mistaken for "nothing to change".
    SELECT p.*
    FROM proposed AS p, current AS c
    WHERE (c.title, c.description, c.status, c.priority, c.due_date, c.tags)
          IS DISTINCT FROM (p.title, p.description, p.status, p.priority, p.due_date, p.tags)
), updated AS (
    UPDATE tasks AS t
    SET title = p.title, description = p.description, status = p.status, priority = p.priority,
        due_date = p.due_date, tags = p.tags,
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
