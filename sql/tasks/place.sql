-- Give live tasks new positions (one moved task, or a whole sibling list re-spaced) and the moved task its parent.
-- $1 user_id
-- $2 task_id (the moved task: it always changes, and comes back)
-- $3 parent_id (the moved task's new parent; null: top level)
-- $4 ids (the tasks to place, the moved one among them)
-- $5 positions (their new positions, in the same order)
-- $6 counter (the user's change counter as tasks/move_target read it, alone; null: in the transaction of
--    sync/lock, after tasks/move_target)
-- What tasks/move_target read decided the positions. Alone, it still holds if the counter, locked here, has
-- not moved since: no write of the user committed in between, and none can until this commits. Otherwise
-- nothing changes and no row comes back: the gateway reads and writes again after sync/lock. Each task
-- whose place changes gets version + 1 and the bumped counter, so a re-spaced sibling reaches the change
-- feed like any change.
WITH {lock_counter}, wanted AS (
    SELECT w.id, w.position FROM unnest($4::uuid[], $5::text[]) AS w(id, position)
), changed AS (
    SELECT t.id, w.position, CASE WHEN t.id = $2 THEN $3::uuid ELSE t.parent_id END AS parent_id
    FROM tasks AS t
    JOIN wanted AS w ON w.id = t.id
    JOIN lock ON $6::bigint IS NULL OR lock.change_seq = $6::bigint
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
