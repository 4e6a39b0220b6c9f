-- Hard-delete the user's tombstones deleted before the cutoff, their idempotency keys, and raise the horizon past them.
-- $1 user_id
-- $2 deleted_before
-- One statement, one transaction: no feed read can see the tombstones gone and the horizon not yet raised,
-- so no cursor skips a purged deletion (the feed answers 410 below the horizon). The counter row is locked
-- first, as every write does, so the purge queues with the user's writers instead of deadlocking them.
WITH lock AS MATERIALIZED (
    SELECT change_seq FROM task_sync WHERE user_id = $1 FOR UPDATE
), purged AS (
    DELETE FROM tasks AS t
    USING lock
    WHERE t.user_id = $1 AND t.status = 'deleted' AND t.deleted_at < $2::timestamptz
    RETURNING t.id, t.change_seq
), keys AS (
    DELETE FROM idempotency_keys AS k
    USING purged AS p
    WHERE k.user_id = $1 AND k.task_id = p.id
), raised AS (
    UPDATE task_sync AS s
    SET horizon = greatest(s.horizon, (SELECT max(change_seq) FROM purged))
    WHERE s.user_id = $1 AND EXISTS (SELECT FROM purged)
)
SELECT count(*) FROM purged
