-- Soft-delete a live task: status 'deleted' hides it from every read; the answer tells 404 from 412.
-- $1 user_id
-- $2 task_id
-- $3 expected_version (null: no If-Match)
WITH current AS (
    SELECT version
    FROM tasks
    WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
    FOR UPDATE
), deleted AS (
    UPDATE tasks AS t
    SET status = 'deleted', deleted_at = now(), version = t.version + 1, updated_at = now()
    WHERE t.user_id = $1 AND t.id = $2 AND t.status <> 'deleted'
      AND ($3::integer IS NULL OR t.version = $3::integer)
    RETURNING t.id
)
SELECT EXISTS (SELECT FROM deleted) AS deleted, EXISTS (SELECT FROM current) AS found
