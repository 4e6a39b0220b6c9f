-- One live task of the user.
-- $1 user_id
-- $2 task_id
SELECT id, user_id, title, description, status, priority, status = 'completed' AS completed,
       due_date, tags, completed_at, created_at, updated_at, version
FROM tasks
WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
