-- A live task and where a move would put it: whether the target is allowed, and the gap it would go into.
-- $1 user_id
-- $2 task_id
-- $3 keep_parent (the body had no parent_id)
-- $4 parent_id (the new parent; null: top level)
-- $5 after_id (the sibling to go right after; null: first)
-- Read alone, then again under the user's change-counter lock (sync/lock) if tasks/place finds that the
-- counter (`counter`, as read here) has moved since: either way the answer holds until tasks/place writes it.
-- No row: no such live task. Siblings are the live tasks under the target parent, the task itself aside,
-- in (position, id) order; the task goes between `after` and the sibling that follows it (`next`).
SELECT t.*,
       (t.target IS NULL OR EXISTS (
            SELECT FROM tasks
            WHERE user_id = $1 AND id = t.target AND status <> 'deleted' AND parent_id IS NULL AND id <> $2
       )) AS parent_ok,
       EXISTS (SELECT FROM tasks WHERE user_id = $1 AND parent_id = $2 AND status <> 'deleted') AS has_subtasks,
       ($5::uuid IS NULL OR a.id IS NOT NULL) AS after_ok,
       a.position AS after_position,
       n.position AS next_position,
       -- already right after `after` and before `next`: moving there changes nothing
       (t.parent_id IS NOT DISTINCT FROM t.target
        AND ($5::uuid IS NULL OR (t.position, t.id) > (a.position, a.id))
        AND (n.id IS NULL OR (t.position, t.id) < (n.position, n.id))) AS already_there,
       (SELECT change_seq FROM task_sync WHERE user_id = $1) AS counter
FROM (
    SELECT {task_columns}, CASE WHEN $3::boolean THEN parent_id ELSE $4::uuid END AS target
    FROM tasks
    WHERE user_id = $1 AND id = $2 AND status <> 'deleted'
) AS t
LEFT JOIN tasks AS a
       ON a.user_id = $1 AND a.id = $5::uuid AND a.status <> 'deleted' AND a.id <> $2
      AND a.parent_id IS NOT DISTINCT FROM t.target
LEFT JOIN LATERAL (
    -- two branches, each a walk of tasks_user_parent_position_idx (an OR would hide the index)
    SELECT * FROM (
        SELECT s.id, s.position FROM tasks AS s
        WHERE t.target IS NULL AND s.user_id = $1 AND s.parent_id IS NULL AND s.status <> 'deleted' AND s.id <> $2
          AND ($5::uuid IS NULL OR (s.position, s.id) > (a.position, a.id))
        UNION ALL
        SELECT s.id, s.position FROM tasks AS s
        WHERE s.user_id = $1 AND s.parent_id = t.target AND s.status <> 'deleted' AND s.id <> $2
          AND ($5::uuid IS NULL OR (s.position, s.id) > (a.position, a.id))
    ) AS sibling
    ORDER BY sibling.position, sibling.id
    LIMIT 1
) AS n ON true
