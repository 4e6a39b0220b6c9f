-- depends: 0004_due_date_finite
-- The change feed (GET /tasks/changes): one counter row per user, and every task stamped with the
-- counter value of the write that last changed it.
--
-- task_sync.change_seq is the user's change counter. Every write transaction locks this row first,
-- so one user's writers commit in counter order: a reader that sees counter N in its snapshot sees
-- every task stamped <= N, and none stamped later, so walking (change_seq, id) can never skip a commit
-- (an updated_at or plain-sequence walk can: values are taken before, and become visible at, commit).
-- task_sync.horizon is the change_seq up to which tombstones (deleted tasks, kept with status 'deleted'
-- and deleted_at) may have been purged: a feed cursor below it is answered 410.
CREATE TABLE task_sync (
    user_id    text   PRIMARY KEY CHECK (char_length(user_id) BETWEEN 1 AND 255),
    change_seq bigint NOT NULL DEFAULT 0 CHECK (change_seq >= 0),
    horizon    bigint NOT NULL DEFAULT 0 CHECK (horizon >= 0 AND horizon <= change_seq)
);

-- 0 only for rows no write has stamped: the existing ones get their numbers below.
ALTER TABLE tasks ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;

-- Existing tasks, deleted ones included (they are the first tombstones), numbered per user in the
-- order they last changed; the counter starts at the user's last number.
UPDATE tasks AS t
SET change_seq = n.seq
FROM (SELECT user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY updated_at, id) AS seq FROM tasks) AS n
WHERE t.user_id = n.user_id AND t.id = n.id;

INSERT INTO task_sync (user_id, change_seq)
SELECT user_id, max(change_seq) FROM tasks GROUP BY user_id;

-- The feed's walk, live tasks and tombstones alike; the purge finds old tombstones by deleted_at.
CREATE INDEX tasks_user_change_idx ON tasks (user_id, change_seq, id);
CREATE INDEX tasks_tombstones_idx ON tasks (deleted_at, user_id) WHERE status = 'deleted';
