-- depends: 0003_list_keys
-- A due date is always a real instant: the driver maps the edges of Python's datetime to +/-infinity,
-- and infinity also stands for "no due date" in the due_date sort key (0003).
ALTER TABLE tasks ADD CONSTRAINT due_date_is_finite CHECK (isfinite(due_date));
