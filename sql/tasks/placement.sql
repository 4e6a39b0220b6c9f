-- Whether a task may go under a parent, and the position of the last of its siblings there.
-- $1 user_id
-- $2 parent_id (null: top level)
-- $3 task_id (the task being placed: an existing one, a client-chosen id, or null)
-- Read under the user's change-counter lock (sync/lock), so the answer holds until the write.
-- parent_ok: no parent, or a live top-level task of the user other than the task itself.
-- has_subtasks: the task has live subtasks (then it cannot get a parent).
-- taken: the user already has a task with this id, live or deleted.
-- current_parent, version: of the task, when it exists and is live.
SELECT ($2::uuid IS NULL OR EXISTS (
            SELECT FROM tasks
            WHERE user_id = $1 AND id = $2::uuid AND status <> 'deleted' AND parent_id IS NULL
              AND id IS DISTINCT FROM $3::uuid
        )) AS parent_ok,
       EXISTS (
            SELECT FROM tasks WHERE user_id = $1 AND parent_id = $3::uuid AND status <> 'deleted'
       ) AS has_subtasks,
       -- Two branches, each a backward walk of tasks_user_parent_position_idx (an OR would hide the index).
       CASE WHEN $2::uuid IS NULL
            THEN (SELECT position FROM tasks
                  WHERE user_id = $1 AND parent_id IS NULL AND status <> 'deleted' AND id IS DISTINCT FROM $3::uuid
                  ORDER BY position DESC, id DESC LIMIT 1)
            ELSE (SELECT position FROM tasks
                  WHERE user_id = $1 AND parent_id = $2::uuid AND status <> 'deleted' AND id IS DISTINCT FROM $3::uuid
                  ORDER BY position DESC, id DESC LIMIT 1)
       END AS last_position,
       t.id IS NOT NULL AS taken,
       CASE WHEN t.status <> 'deleted' THEN t.parent_id END AS current_parent,
       CASE WHEN t.status <> 'deleted' THEN t.version END AS version
FROM (VALUES (true)) AS one
LEFT JOIN tasks AS t ON t.user_id = $1 AND t.id = $3::uuid
