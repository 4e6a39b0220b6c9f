-- One live task of the user: its version (the ETag) and the task as JSON.
-- $1 user_id
-- $2 task_id
SELECT version, {task_json} AS task
FROM tasks
WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
