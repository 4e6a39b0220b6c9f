-- Insert one task; with an Idempotency-Key, only when the key is new (or its claim is over 24 hours old).
-- $1 user_id
-- $2 title
-- $3 description
-- $4 status
-- $5 priority
-- $6 due_date
-- $7 tags
-- $8 idempotency_key (null: none)
-- $9 request_hash (of the parsed body; null without a key)
-- No row back means the key is already claimed: tasks/find_idempotent says by which request.
-- The unique key, not a lock in Python, makes concurrent repeats create exactly one task.
WITH claim AS (
    INSERT INTO idempotency_keys AS k (user_id, key, request_hash, task_id)
    SELECT $1, $8::text, $9::bytea, gen_random_uuid()
    WHERE $8::text IS NOT NULL
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, task_id = excluded.task_id, created_at = now()
        WHERE k.created_at < now() - interval '24 hours'
    RETURNING task_id
)
INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags, completed_at)
SELECT $1, coalesce((SELECT task_id FROM claim), gen_random_uuid()), $2, $3, $4::text, $5, $6, $7,
       CASE WHEN $4::text = 'completed' THEN now() END
WHERE $8::text IS NULL OR EXISTS (SELECT FROM claim)
RETURNING {task_columns}
