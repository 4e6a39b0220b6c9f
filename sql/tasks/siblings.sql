-- The live tasks under a parent (or the top-level ones), in their order: the list a re-spacing lays out afresh.
-- $1 user_id
-- $2 parent_id (null: top level)
-- Read under the user's change-counter lock (sync/lock), so the list holds until tasks/place writes it.
SELECT id
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
  AND CASE WHEN $2::uuid IS NULL THEN parent_id IS NULL ELSE parent_id = $2::uuid END
ORDER BY position, id
