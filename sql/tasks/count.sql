-- How many of the user's live tasks match the filters (meta.total of a list).
-- $1 user_id
-- $2 statuses (null: any live status)
-- $3 priorities (null: any)
-- $4 tags (the task must have all of them; null: any)
-- $5 q (lower-cased substring of title or description; null: no search)
-- $6 due_after (due_date >= it; null: no bound)
-- $7 due_before (due_date < it; null: no bound)
-- $8 parent_id (the task's live subtasks only; null: any parent)
-- $9 top_level (true: top-level tasks only; null: any)
-- The filters slot is filled from the reviewed fragments in service/list_sql.py, as in tasks/list.
SELECT count(*)
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
  AND {filters}
