-- One page of the change feed: the user's tasks stamped after a position, up to the counter, in counter order.
-- $1 user_id
-- $2 after_seq
-- $3 after_id (the last task sent with after_seq; null: every task stamped after_seq was sent)
-- $4 tombstones_after (a tombstone stamped at or below it is not sent: a full sync's start; -1: send all)
-- $5 limit
-- One statement is one snapshot: the counter, the horizon and the tasks are read at the same instant,
-- as a REPEATABLE READ READ ONLY transaction would read them, without its BEGIN and COMMIT round trips.
-- Writers lock the counter row first and stamp their tasks with its next value before they commit, so a
-- snapshot that sees counter N sees every task stamped up to N and none above: the page can stop at N,
-- and the next one start there, without skipping a commit. The first row always comes, tasks or not.
WITH sync AS (
    SELECT coalesce(max(change_seq), 0) AS head, coalesce(max(horizon), 0) AS horizon
    FROM task_sync
    WHERE user_id = $1
)
SELECT s.head, s.horizon, t.change_seq, t.deleted_at,
       t.id, t.user_id, t.title, t.description, t.status, t.priority, t.completed,
       t.due_date, t.tags, t.completed_at, t.created_at, t.updated_at, t.version, t.parent_id, t.position, t.recurrence, t.last_completed_at
FROM sync AS s
LEFT JOIN LATERAL (
    SELECT change_seq, deleted_at,
           id, user_id, title, description, status, priority, status = 'completed' AS completed,
           due_date, tags, completed_at, created_at, updated_at, version, parent_id, position, recurrence, last_completed_at
    FROM tasks
    WHERE user_id = $1
      AND (change_seq, id) > ($2::bigint, coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
      AND change_seq <= s.head
      AND (status <> 'deleted' OR change_seq > $4::bigint)
    ORDER BY change_seq, id
    LIMIT $5
) AS t ON true
