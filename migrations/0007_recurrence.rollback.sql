ALTER TABLE tasks DROP CONSTRAINT recurrence_needs_due_date;
ALTER TABLE tasks DROP CONSTRAINT recurrence_shape;
ALTER TABLE tasks DROP COLUMN completions, DROP COLUMN last_completed_at, DROP COLUMN recurrence;
