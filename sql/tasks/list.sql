-- One keyset page of the user's live tasks that match the filters, in the requested order.
-- $1 user_id
-- $2 statuses (null: any live status)
-- $3 priorities (null: any)
-- $4 tags (the task must have all of them; null: any)
-- $5 q (lower-cased substring of title or description; null: no search)
-- $6 due_after (due_date >= it; null: no bound)
-- $7 due_before (due_date < it; null: no bound)
-- $8 parent_id (the task's live subtasks only; null: any parent)
-- $9 top_level (true: top-level tasks only; null: any)
-- $10 after_key (sort key of the previous page's last task; its type follows the sort)
-- $11 after_id (id of the previous page's last task; null: first page)
-- $12 limit
-- The three slots (filters, after, order) are filled per request from the fixed, reviewed fragments in
-- service/list_sql.py: a condition per filter given, a keyset condition and an ORDER BY per sort.
-- They hold bind parameters only, never request text.
SELECT {task_columns}
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
  AND {filters}
  AND {after}
ORDER BY {order}
LIMIT $12
