ALTER TABLE tasks DROP CONSTRAINT due_date_is_finite;
DROP FUNCTION task_json(tasks);
DROP FUNCTION api_timestamp(timestamptz);
