-- One keyset page of the user's live tasks that match the filters, in the requested order, as JSON, with the total.
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
-- The slots (filters, after, order, page_key, page_order) are filled per request from the fixed, reviewed
-- fragments in service/list_sql.py: a condition per filter given, a keyset condition and an ORDER BY per sort.
-- They hold bind parameters only, never request text.
-- One row, whatever the page holds: `tasks` is the page's tasks as the API's JSON objects, one a line in the
-- page's order (a JSON text never holds a raw line feed), for the service to splice into its response as is;
-- `fetched` counts them; `total` counts every match, in the same snapshot as the page.
SELECT coalesce(string_agg({task_json}, E'\n' ORDER BY {page_order}), '') AS tasks,
       count(*) AS fetched,
       (SELECT count(*) FROM tasks WHERE user_id = $1 AND status <> 'deleted' AND {filters}) AS total
FROM (
    SELECT {task_columns}, {page_key} AS page_key
    FROM tasks
    WHERE user_id = $1 AND status <> 'deleted'
      AND {filters}
      AND {after}
    ORDER BY {order}
    LIMIT $12
) AS task
