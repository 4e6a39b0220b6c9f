-- One page of the user's live tasks, newest first.
-- $1 user_id
-- $2 limit
SELECT id, user_id, title, description, status, priority, status = 'completed' AS completed,
       due_date, tags, completed_at, created_at, updated_at, version
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
ORDER BY created_at DESC, id DESC
LIMIT $2
