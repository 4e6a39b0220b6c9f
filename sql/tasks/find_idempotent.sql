-- The request that claimed an Idempotency-Key, and its task as it is now (null columns once deleted).
-- $1 user_id
-- $2 idempotency_key
SELECT k.request_hash,
       t.id, t.user_id, t.title, t.description, t.status, t.priority, t.status = 'completed' AS completed,
       t.due_date, t.tags, t.completed_at, t.created_at, t.updated_at, t.version
FROM idempotency_keys AS k
LEFT JOIN tasks AS t ON t.user_id = k.user_id AND t.id = k.task_id AND t.status <> 'deleted'
WHERE k.user_id = $1 AND k.key = $2
