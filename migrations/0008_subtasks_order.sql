-- depends: 0006_change_feed
-- Subtasks and a user-arranged order (docs/api.md, "Subtasks and order").
--
-- parent_id: one level of subtasks; the foreign key includes user_id, so a parent is always the same
-- user's task (the API checks the rest: live, top-level, not the task itself).
-- position: a fractional-index key (service/positions.py); siblings sort by it byte-wise, hence
-- COLLATE "C" whatever the server's locale. Rows written outside the API (seeds, fillers) get the
-- first key; the API always sets its own, under the user's change-counter lock.

-- Writers lock task_sync first, then tasks: take them in that order too, so a write arriving meanwhile
-- waits instead of deadlocking with the migration.
LOCK TABLE task_sync, tasks IN ACCESS EXCLUSIVE MODE;

ALTER TABLE tasks
    ADD COLUMN parent_id uuid,
    ADD COLUMN position text COLLATE "C" NOT NULL DEFAULT 'a0'
        CHECK (char_length(position) BETWEEN 2 AND 100 AND position ~ '^[0-9A-Za-z]+$'),
    ADD CONSTRAINT parent_is_another_task CHECK (parent_id <> id),
    ADD CONSTRAINT parent_is_the_users FOREIGN KEY (user_id, parent_id) REFERENCES tasks (user_id, id);

-- Existing tasks (all top-level) in the order they were created, per user, with the keys
-- service.positions.spread gives a list laid out afresh: a0..az, b00..bzz, c000..czzz, d0000..dzzzz
-- (the head letter says how many base-62 digits follow).
WITH numbered AS (
    SELECT user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) - 1 AS n
    FROM tasks
), sized AS (
    SELECT user_id, id,
           CASE WHEN n < 62 THEN 1 WHEN n < 3906 THEN 2 WHEN n < 242234 THEN 3 ELSE 4 END AS width,
           n - CASE WHEN n < 62 THEN 0 WHEN n < 3906 THEN 62 WHEN n < 242234 THEN 3906 ELSE 242234 END AS k
    FROM numbered
)
UPDATE tasks AS t
SET position = chr(ascii('a') + z.width - 1) || (
        SELECT string_agg(substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
                                 (z.k / (62 ^ d)::bigint % 62)::integer + 1, 1), '' ORDER BY d DESC)
        FROM generate_series(0, z.width - 1) AS d)
FROM sized AS z
WHERE t.user_id = z.user_id AND t.id = z.id;

-- Every live task now has a position a syncing client has not seen: each goes back into the change
-- feed (stamped past the user's counter, which follows), so an incremental sync picks it up.
WITH renumbered AS (
    SELECT t.user_id, t.id, s.change_seq + row_number() OVER (PARTITION BY t.user_id ORDER BY t.change_seq, t.id) AS seq
    FROM tasks AS t JOIN task_sync AS s ON s.user_id = t.user_id
    WHERE t.status <> 'deleted'
)
UPDATE tasks AS t
SET change_seq = r.seq
FROM renumbered AS r
WHERE t.user_id = r.user_id AND t.id = r.id;

UPDATE task_sync AS s
SET change_seq = m.seq
FROM (SELECT user_id, max(change_seq) AS seq FROM tasks GROUP BY user_id) AS m
WHERE s.user_id = m.user_id AND m.seq > s.change_seq;

-- A parent's subtasks, and siblings in their order (parent_id IS NULL for top-level tasks). Not partial:
-- the foreign key's check when a purge hard-deletes a parent looks for referencing rows of any status.
CREATE INDEX tasks_user_parent_position_idx ON tasks (user_id, parent_id, position, id);
-- sort=position over every live task.
CREATE INDEX tasks_user_position_idx ON tasks (user_id, position, id) WHERE status <> 'deleted';
