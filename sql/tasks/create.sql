-- Insert one task after its last sibling and advance the change feed; with an Idempotency-Key, only when the key is new (or over 24 hours old).
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
-- $13 position (null: the key right after the last sibling's, computed here)
-- One statement, without a transaction around it, whenever the user's counter lock finds the snapshot
-- fresh (see fragments/lock_counter): the parent, the id and the last sibling read here are then the
-- newest, and stay so until this commits, so two creates never take the same position and a subtask
-- never lands under a parent deleted meanwhile. Otherwise nothing is written and the outcome says so.
-- outcome, and what the gateway does with it:
--   created     the task (change_seq and the task's columns)
--   behind      the snapshot is older than the lock: run this again after sync/lock, in its transaction
--   taken       the user has a task with this id already, live or deleted (409)
--   bad_parent  the parent is no live top-level task of the user (422)
--   no_key      the key after last_position takes service/positions.py (its integer part is all 'z's):
--               run this again with it as $13, in the transaction of sync/lock
--   claimed     the Idempotency-Key is claimed: tasks/find_idempotent says by which request
-- The key is claimed (the unique key, not a lock in Python, makes concurrent repeats create exactly one
-- task) only after the counter row is locked, as every write locks it first. The gateway sends the
-- live-update notice once the write has committed (service/notices.py).
WITH {lock_counter}, place AS MATERIALIZED (
    SELECT f.fresh,
           ($12::uuid IS NULL OR EXISTS (
                SELECT FROM tasks
                WHERE user_id = $1 AND id = $12::uuid AND status <> 'deleted' AND parent_id IS NULL
           )) AS parent_ok,
           ($11::uuid IS NOT NULL AND EXISTS (SELECT FROM tasks WHERE user_id = $1 AND id = $11::uuid)) AS taken,
           -- Two branches, each a backward walk of tasks_user_parent_position_idx (an OR would hide the index).
           CASE WHEN $12::uuid IS NULL
                THEN (SELECT position FROM tasks
                      WHERE user_id = $1 AND parent_id IS NULL AND status <> 'deleted'
                      ORDER BY position DESC, id DESC LIMIT 1)
                ELSE (SELECT position FROM tasks
                      WHERE user_id = $1 AND parent_id = $12::uuid AND status <> 'deleted'
                      ORDER BY position DESC, id DESC LIMIT 1)
           END AS last_position
    FROM fresh AS f
), keyed AS (
    -- positions.between(last_position, None), the fractional-indexing key after it, for every key whose
    -- integer part (a head letter saying how many base-62 digits follow: a-z one to 26, Z-A one to 26)
    -- has a digit below 'z': that digit plus one, the 'z's after it zeros. The key is the integer part alone.
    SELECT p.*,
           coalesce($13::text, CASE WHEN p.last_position IS NULL THEN 'a0' ELSE (
               SELECT left(p.last_position, 1) || m[1]
                      || substr(digits, strpos(digits, m[2]) + 1, 1) || repeat('0', length(m[3]))
               FROM (VALUES ('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')) AS d(digits),
                    (VALUES (CASE WHEN p.last_position ~ '^[a-z]' THEN ascii(p.last_position) - ascii('a') + 2
                                  WHEN p.last_position ~ '^[A-Z]' THEN ascii('Z') - ascii(p.last_position) + 2
                             END)) AS i(width),
                    regexp_match(substr(p.last_position, 2, i.width - 1), '^(.*)([^z])(z*)$') AS m
               WHERE length(p.last_position) >= i.width
           ) END) AS position
    FROM place AS p
), allowed AS (
    SELECT k.position FROM keyed AS k WHERE k.fresh AND k.parent_ok AND NOT k.taken AND k.position IS NOT NULL
), claim AS (
    INSERT INTO idempotency_keys AS k (user_id, key, request_hash, task_id)
    SELECT $1, $9::text, $10::bytea, coalesce($11::uuid, gen_random_uuid())
    FROM allowed
    WHERE $9::text IS NOT NULL
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, task_id = excluded.task_id, created_at = now()
        WHERE k.created_at < now() - interval '24 hours'
    RETURNING task_id
), changed AS (
    SELECT a.position FROM allowed AS a WHERE $9::text IS NULL OR EXISTS (SELECT FROM claim)
), {bump_counter}, created AS (
    INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags, completed_at, change_seq,
                       parent_id, position, recurrence)
    SELECT $1, coalesce((SELECT task_id FROM claim), $11::uuid, gen_random_uuid()), $2, $3, $4::text, $5, $6, $7,
           CASE WHEN $4::text = 'completed' THEN now() END, b.change_seq, $12::uuid, c.position, $8::jsonb
    FROM bump AS b, changed AS c
    RETURNING change_seq, {task_columns}
)
SELECT CASE WHEN NOT k.fresh THEN 'behind'
            WHEN k.taken THEN 'taken'
            WHEN NOT k.parent_ok THEN 'bad_parent'
            WHEN k.position IS NULL THEN 'no_key'
            WHEN c.id IS NULL THEN 'claimed'
            ELSE 'created' END AS outcome,
       k.last_position, c.*
FROM keyed AS k
LEFT JOIN created AS c ON true
