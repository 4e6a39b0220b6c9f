-- One live task of the user.
-- $1 user_id
-- $2 task_id
SELECT {task_columns}
FROM tasks
WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
