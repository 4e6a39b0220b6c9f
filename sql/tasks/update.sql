-- Change one live task, the one write behind PUT, PATCH, .../complete and DELETE, with its cascades; the outcome tells 404, 412 and no-op apart.
-- $1 user_id
-- $2 task_id
-- $3 expected_version (null: no If-Match)
-- $4 title (null: keep)
-- $5 set_description (description is nullable, so a flag says whether it was sent)
-- $6 description
-- $7 status_if_completed (the new status of a task that is completed now; null: keep)
-- $8 status_otherwise (the new status of any other task; null: keep)
-- $9 priority (null: keep)
-- $10 set_due_date
-- $11 due_date
-- $12 tags (null: keep)
-- $13 set_parent
-- $14 parent_id
-- $15 set_recurrence
-- $16 recurrence (jsonb text)
-- $17 next_due (completing a recurring task moves its due date here and keeps it open; null: not computed)
-- $18 ends (completing a recurring task completes it for real: its rule has no occurrence left)
-- $19 position (null: keep; a new parent comes with the position after its last subtask, see tasks/placement)
-- The status pair says set, toggle and the `completed: false` shorthand alike: a toggle is ('pending', 'completed'),
-- the shorthand ('pending', null), a status or a delete the same value twice (service.schemas.TaskChange).
-- The user's counter row is locked first (fragments/lock_counter; the task's lock waits for it through the
-- join), then the task's row, so fields not sent are read from the latest committed task, never a stale copy.
-- A change bumps the counter and stamps the task with it; no change (or a stale If-Match) does neither.
-- The gateway sends the live-update notice once the write has committed (service/notices.py).
-- Cascades, stamped with the same counter value: a deleted task's live subtasks are deleted, a newly
-- completed task's open subtasks completed, and a reopened subtask reopens its completed parent. They read
-- other rows than the task, so a write that changes the status or the parent (and so can cascade) needs the
-- snapshot fresh: when it is not, it changes nothing and answers 'behind', and the gateway runs it again
-- after sync/lock in one transaction, where the snapshot is taken under the lock. Any other change is one
-- statement whatever happened meanwhile: it reads no row but the locked task.
-- Completing a recurring task needs its next occurrence, which only Python computes (service.recurrence):
-- without $17 or $18 such a write changes nothing and answers 'recurs'; the gateway then reads the locked
-- task (tasks/lock), computes them and runs this again in the same transaction. A recurring task left
-- without a due date answers 'needs_due' and changes nothing. Completing it on moves no subtask: its
-- status stays open, so the completion cascade below does not fire.
WITH {lock_counter}, current AS (
    SELECT t.*
    FROM tasks AS t LEFT JOIN lock ON true
    WHERE t.user_id = $1 AND t.id = $2 AND t.status <> 'deleted'
    FOR UPDATE OF t
), asked AS (
    SELECT coalesce($4::text, c.title) AS title,
           CASE WHEN $5::boolean THEN $6::text ELSE c.description END AS description,
           coalesce(CASE WHEN c.status = 'completed' THEN $7::text ELSE $8::text END, c.status) AS status,
           coalesce($9::text, c.priority) AS priority,
           CASE WHEN $10::boolean THEN $11::timestamptz ELSE c.due_date END AS due_date,
           coalesce($12::text[], c.tags) AS tags,
           CASE WHEN $13::boolean THEN $14::uuid ELSE c.parent_id END AS parent_id,
           coalesce($19::text, c.position) AS position,
           CASE WHEN $15::boolean THEN $16::jsonb ELSE c.recurrence END AS recurrence,
           c.status AS was
    FROM current AS c
), recurring AS (
    SELECT a.*,
           a.recurrence IS NOT NULL AND a.status = 'completed' AND a.was <> 'completed' AS completes,
           -- a new rule or due date restarts COUNT
           (a.recurrence, a.due_date) IS DISTINCT FROM (c.recurrence, c.due_date) AS restarts
    FROM asked AS a, current AS c
), proposed AS (
    SELECT r.title, r.description, r.priority, r.tags, r.parent_id, r.position, r.recurrence, r.was,
           CASE WHEN r.completes AND $17::timestamptz IS NOT NULL THEN 'pending' ELSE r.status END AS status,
           CASE WHEN r.completes AND $17::timestamptz IS NOT NULL THEN $17::timestamptz ELSE r.due_date END AS due_date,
           CASE WHEN r.restarts THEN 0 ELSE c.completions END + CASE WHEN r.completes THEN 1 ELSE 0 END AS completions,
           CASE WHEN r.completes THEN now() ELSE c.last_completed_at END AS last_completed_at,
           r.recurrence IS NOT NULL AND r.due_date IS NULL AS needs_due,
           r.completes AND $17::timestamptz IS NULL AND NOT $18::boolean AS recurs
    FROM recurring AS r, current AS c
), cascading AS (
    -- a write that may cascade, with a snapshot older than the lock: 'behind'
    SELECT p.*,
           NOT f.fresh AND (p.status <> p.was OR p.parent_id IS DISTINCT FROM c.parent_id) AS behind
    FROM proposed AS p, current AS c, fresh AS f
), changed AS (
    -- Compared with the locked row (the latest committed task), never the statement's older snapshot,
    -- so a write racing another one is neither lost nor mistaken for "nothing to change".
    SELECT p.*
    FROM cascading AS p, current AS c
    WHERE (c.title, c.description, c.status, c.priority, c.due_date, c.tags, c.parent_id, c.position,
           c.recurrence, c.completions)
          IS DISTINCT FROM (p.title, p.description, p.status, p.priority, p.due_date, p.tags, p.parent_id, p.position,
                            p.recurrence, p.completions)
      AND ($3::integer IS NULL OR c.version = $3::integer)
      AND NOT p.needs_due AND NOT p.recurs AND NOT p.behind
), {bump_counter}, updated AS (
    UPDATE tasks AS t
    SET title = p.title, description = p.description, status = p.status, priority = p.priority,
        due_date = p.due_date, tags = p.tags, parent_id = p.parent_id, position = p.position,
        recurrence = p.recurrence, completions = p.completions, last_completed_at = p.last_completed_at,
        -- completed_at follows status; a deleted task keeps its own, and its deletion time
        completed_at = CASE p.status WHEN 'completed' THEN coalesce(t.completed_at, now())
                                     WHEN 'deleted' THEN t.completed_at END,
        deleted_at = CASE WHEN p.status = 'deleted' THEN now() END,
        version = t.version + 1, updated_at = now(), change_seq = b.change_seq
    FROM changed AS p, bump AS b
    WHERE t.user_id = $1 AND t.id = $2
    RETURNING t.*
), subtasks AS (
    -- deleted with the task; completed with it when it becomes completed (not when it already was)
    UPDATE tasks AS s
    SET status = p.status,
        completed_at = CASE p.status WHEN 'completed' THEN now() ELSE s.completed_at END,
        deleted_at = CASE WHEN p.status = 'deleted' THEN now() END,
        version = s.version + 1, updated_at = now(), change_seq = b.change_seq
    FROM changed AS p, bump AS b
    WHERE s.user_id = $1 AND s.parent_id = $2
      AND ((p.status = 'deleted' AND s.status <> 'deleted')
           OR (p.status = 'completed' AND p.was <> 'completed' AND s.status IN ('pending', 'in_progress')))
), parent AS (
    -- a completed subtask reopened: its parent can no longer be complete
    UPDATE tasks AS r
    SET status = 'pending', completed_at = NULL,
        version = r.version + 1, updated_at = now(), change_seq = b.change_seq
    FROM changed AS p, bump AS b
    WHERE r.user_id = $1 AND r.id = p.parent_id AND r.status = 'completed'
      AND p.was = 'completed' AND p.status IN ('pending', 'in_progress')
), answer AS (
    -- stale: If-Match named another version; the row is the task as it is, so the 412 carries its ETag
    SELECT 'changed' AS outcome, * FROM updated
    UNION ALL
    SELECT CASE WHEN $3::integer IS NOT NULL AND c.version <> $3::integer THEN 'stale'
                WHEN p.needs_due THEN 'needs_due'
                WHEN p.recurs THEN 'recurs'
                WHEN p.behind THEN 'behind'  -- a change of status or parent: something would change
                ELSE 'unchanged' END, c.*
    FROM current AS c, cascading AS p
    WHERE NOT EXISTS (SELECT FROM updated)
)
SELECT outcome, change_seq, {task_columns}
FROM answer
