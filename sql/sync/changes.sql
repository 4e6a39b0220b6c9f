-- One page of the change feed as JSON: the user's tasks stamped after a position, up to the counter, in counter order.
-- $1 user_id
-- $2 after_seq
-- $3 after_id (the last task sent with after_seq; null: every task stamped after_seq was sent)
-- $4 tombstones_after (a tombstone stamped at or below it is not sent: a full sync's start; -1: send all)
-- $5 limit (tasks and tombstones in the page; one more is read, to tell whether another page follows)
-- One statement is one snapshot: the counter, the horizon and the tasks are read at the same instant,
-- as a REPEATABLE READ READ ONLY transaction would read them, without its BEGIN and COMMIT round trips.
-- Writers lock the counter row first and stamp their tasks with its next value before they commit, so a
-- snapshot that sees counter N sees every task stamped up to N and none above: the page can stop at N,
-- and the next one start there, without skipping a commit.
-- One row, whatever the page holds: the counter and the horizon; `changed`, the page's live tasks, and
-- `deleted`, its tombstones, each a JSON array in counter order, as the API sends them, for the service to
-- splice into its response as is; `fetched` counts the changes read (the page and the one beyond it, when
-- another page follows); `last_seq` and `last_id` are the page's last change, where the next page starts.
WITH sync AS (
    SELECT coalesce(max(change_seq), 0) AS head, coalesce(max(horizon), 0) AS horizon
    FROM task_sync
    WHERE user_id = $1
)
SELECT (SELECT head FROM sync) AS head, (SELECT horizon FROM sync) AS horizon, count(*) AS fetched,
       '[' || coalesce(string_agg({task_json}, ',' ORDER BY task.change_seq, task.id)
                       FILTER (WHERE task.deleted_at IS NULL AND task.n <= $5), '') || ']' AS changed,
       '[' || coalesce(string_agg('{"id":"' || task.id || '","version":' || task.version || ',"deleted_at":"'
                                  || replace(to_char(task.deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'),
                                             '.000000Z', 'Z') || '"}',
                                  ',' ORDER BY task.change_seq, task.id)
                       FILTER (WHERE task.deleted_at IS NOT NULL AND task.n <= $5), '') || ']' AS deleted,
       max(task.change_seq) FILTER (WHERE task.n = $5) AS last_seq,
       (array_agg(task.id) FILTER (WHERE task.n = $5))[1] AS last_id
FROM (
    SELECT change_seq, deleted_at, row_number() OVER (ORDER BY change_seq, id) AS n, {task_columns}
    FROM tasks
    WHERE user_id = $1
      AND (change_seq, id) > ($2::bigint, coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
      AND change_seq <= (SELECT head FROM sync)
      AND (status <> 'deleted' OR change_seq > $4::bigint)
    ORDER BY change_seq, id
    LIMIT $5::bigint + 1
) AS task
