-- The user's counter row locked, the CTE `lock`, and whether the statement's snapshot is as new as that lock, the CTE `fresh` (`{lock_counter}` in sql/).
-- Every write locks the row first: one user's writers queue there, so they commit in counter order and never
-- deadlock. In READ COMMITTED a statement reads the snapshot taken when it started, before the lock was
-- granted, while FOR UPDATE returns the row's newest version. The two are one version (the same writing
-- transaction, xmin) exactly when no write of the user has committed since the snapshot, and as every
-- change bumps the counter in its transaction, none can commit until this statement's transaction does:
-- then the statement's reads of the user's other tasks are the newest there are. A row that is not in the
-- snapshot (a user's first write) is not fresh.
lock AS MATERIALIZED (
    SELECT change_seq, xmin AS writer FROM task_sync WHERE user_id = $1 FOR UPDATE
), fresh AS (
    SELECT EXISTS (SELECT FROM lock JOIN task_sync AS s ON s.xmin = lock.writer WHERE s.user_id = $1) AS fresh
)
