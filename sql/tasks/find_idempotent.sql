-- The request that claimed an Idempotency-Key, and its task as it is now (null columns once deleted).
-- $1 user_id
-- $2 idempotency_key
SELECT k.request_hash, t.*
FROM idempotency_keys AS k
LEFT JOIN LATERAL (
    SELECT {task_columns}
    FROM tasks
    WHERE user_id = k.user_id AND id = k.task_id AND status <> 'deleted'
) AS t ON true
WHERE k.user_id = $1 AND k.key = $2
