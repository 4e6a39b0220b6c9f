-- Every user holding a tombstone deleted before the cutoff: the purge then works one user at a time.
-- $1 deleted_before
-- Reads across users on purpose (the one such statement besides the listener's); it returns user ids only.
SELECT DISTINCT user_id
FROM tasks
WHERE status = 'deleted' AND deleted_at < $1
