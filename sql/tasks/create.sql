-- Insert one task and advance the change feed; with an Idempotency-Key, only when the key is new (or over 24 hours old).
-- $1 user_id
-- $2 title
-- $3 description
-- $4 status
-- $5 priority
-- $6 due_date
-- $7 tags
-- $8 recurrence (jsonb text; null: none)
-- $9 idempotency_key (null: none)
-- $10 request_hash (of the parsed body; null without a key)
-- $11 task_id (chosen by the client; null: a new random one)
-- $12 parent_id (null: top level)
-- $13 position (after the last sibling's, computed under the counter lock; see tasks/placement)
-- No row back means the key is already claimed: tasks/find_idempotent says by which request.
-- The unique key, not a lock in Python, makes concurrent repeats create exactly one task.
-- The user's counter row is locked before the key is claimed (the join below makes the claim wait for
-- it), as every write locks it first: one user's writers queue there, so they commit in counter order
-- and never deadlock over a key. The task is stamped with the bumped counter; the gateway sends the
-- live-update notice once the write has committed (service/notices.py).
WITH lock AS MATERIALIZED (
    SELECT change_seq FROM task_sync WHERE user_id = $1 FOR UPDATE
), claim AS (
    INSERT INTO idempotency_keys AS k (user_id, key, request_hash, task_id)
    SELECT $1, $9::text, $10::bytea, coalesce($11::uuid, gen_random_uuid())
    FROM (VALUES (true)) AS one LEFT JOIN lock ON true
    WHERE $9::text IS NOT NULL
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, task_id = excluded.task_id, created_at = now()
        WHERE k.created_at < now() - interval '24 hours'
    RETURNING task_id
), bump AS (
    -- Also the lock itself for a user's first write, or a create without a key (which claims nothing).
    INSERT INTO task_sync AS s (user_id, change_seq)
    SELECT $1, 1
    WHERE $9::text IS NULL OR EXISTS (SELECT FROM claim)
    {bump_once}
    RETURNING s.change_seq
)
INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags, completed_at, change_seq,
                   parent_id, position, recurrence)
SELECT $1, coalesce((SELECT task_id FROM claim), $11::uuid, gen_random_uuid()), $2, $3, $4::text, $5, $6, $7,
       CASE WHEN $4::text = 'completed' THEN now() END, b.change_seq, $12::uuid, $13::text, $8::jsonb
FROM bump AS b
RETURNING change_seq, {task_columns}
