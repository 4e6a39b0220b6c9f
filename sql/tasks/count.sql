-- How many of the user's live tasks match the filters (meta.total of a list).
-- $1 user_id
-- $2 statuses (null: any live status)
-- $3 priorities (null: any)
-- $4 tags (the task must have all of them; null: any)
-- $5 q (lower-cased substring of title or description; null: no search)
-- $6 due_after (due_date >= it; null: no bound)
-- $7 due_before (due_date < it; null: no bound)
SELECT count(*)
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
  AND ($2::text[] IS NULL OR status = ANY ($2::text[]))
  AND ($3::text[] IS NULL OR priority = ANY ($3::text[]))
  AND ($4::text[] IS NULL OR tags @> $4::text[])
  AND ($5::text IS NULL OR strpos(lower(title), $5::text) > 0 OR strpos(lower(description), $5::text) > 0)
  AND ($6::timestamptz IS NULL OR due_date >= $6::timestamptz)
  AND ($7::timestamptz IS NULL OR due_date < $7::timestamptz)
