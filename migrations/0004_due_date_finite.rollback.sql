ALTER TABLE tasks DROP CONSTRAINT due_date_is_finite;
