-- The user's change counter: every change with change_seq up to it has committed (0 before the first write).
-- $1 user_id
SELECT coalesce((SELECT change_seq FROM task_sync WHERE user_id = $1), 0)
