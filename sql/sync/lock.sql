-- Lock the user's change counter until the transaction ends (creating it at 0 for the user's first write).
-- $1 user_id
-- Writes that read before they write (sibling positions, subtasks to cascade to) run in a transaction
-- that starts with this statement: every writer of the user waits here, and each statement after it
-- reads a snapshot taken once the lock is held, so it sees every write committed before.
-- ON CONFLICT DO UPDATE locks the existing row even when its WHERE lets nothing be updated. A row made
-- here has no bumped_by (see migration 0009): the transaction's first change still advances the counter.
INSERT INTO task_sync AS s (user_id, bumped_by)
VALUES ($1, NULL)
ON CONFLICT (user_id) DO UPDATE SET change_seq = s.change_seq WHERE false
