DROP INDEX tasks_tombstones_idx;
DROP INDEX tasks_user_change_idx;
ALTER TABLE tasks DROP COLUMN change_seq;
DROP TABLE task_sync;
