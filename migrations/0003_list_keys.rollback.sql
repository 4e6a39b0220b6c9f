DROP INDEX tasks_user_tags_idx;
CREATE INDEX tasks_tags_idx ON tasks USING gin (tags) WHERE status <> 'deleted';
DROP INDEX tasks_user_due_last_desc_idx;
DROP INDEX tasks_user_due_last_asc_idx;
CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, due_date ASC NULLS LAST, id ASC) WHERE status <> 'deleted';
CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_date DESC NULLS LAST, id DESC) WHERE status <> 'deleted';
