-- One live task of the user: its version (the ETag) and the task as JSON.
-- $1 user_id
-- $2 task_id
SELECT task.version, row_to_json(task_json)::text AS task
FROM (
    SELECT {task_columns}
    FROM tasks
    WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
) AS task
CROSS JOIN LATERAL ({task_json}) AS task_json
