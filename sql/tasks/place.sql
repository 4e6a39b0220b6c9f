-- Give live tasks new positions (one moved task, or a whole sibling list re-spaced) and the moved task its parent.
-- $1 user_id
-- $2 task_id (the moved task: it always changes, and comes back)
-- $3 parent_id (the moved task's new parent; null: top level)
-- $4 ids (the tasks to place, the moved one among them)
-- $5 positions (their new positions, in the same order)
-- Runs after sync/lock and tasks/move_target in one transaction. Each task whose place changes gets
-- version + 1 and the bumped counter, so a re-spaced sibling reaches the change feed like any change.
WITH {lock_counter}, wanted AS (
    SELECT w.id, w.position FROM unnest($4::uuid[], $5::text[]) AS w(id, position)
), changed AS (
    SELECT t.id, w.position, CASE WHEN t.id = $2 THEN $3::uuid ELSE t.parent_id END AS parent_id
    FROM tasks AS t
    JOIN wanted AS w ON w.id = t.id
    LEFT JOIN lock ON true
    WHERE t.user_id = $1 AND t.status <> 'deleted'
      AND (t.id = $2 OR t.position <> w.position)
    FOR UPDATE OF t
), {bump_counter}, updated AS (
    UPDATE tasks AS t
    SET position = c.position, parent_id = c.parent_id,
        version = t.version + 1, updated_at = now(), change_seq = b.change_seq
    FROM changed AS c, bump AS b
    WHERE t.user_id = $1 AND t.id = c.id
    RETURNING t.*
)
SELECT change_seq, {task_columns}
FROM updated
WHERE id = $2
