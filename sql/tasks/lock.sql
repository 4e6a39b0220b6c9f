-- Lock one live task and read what completing it as a recurring task depends on, with the transaction's time.
-- $1 user_id
-- $2 task_id
-- Run after sync/lock, in the transaction that then runs tasks/update: the next due date is computed
-- (service.recurrence.next_due) from this locked row, so concurrent completions queue on the counter
-- and each advances the task from where the one before left it. `now` is the same now() that
-- tasks/update stamps on last_completed_at.
SELECT status, due_date, recurrence, completions, now() AS now
FROM tasks
WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
FOR UPDATE
