DROP TABLE batch_keys;
ALTER TABLE task_sync DROP COLUMN bumped_by;
