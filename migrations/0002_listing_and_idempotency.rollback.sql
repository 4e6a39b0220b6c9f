DROP TABLE idempotency_keys;
DROP INDEX tasks_tags_idx;
DROP INDEX tasks_user_title_idx;
DROP INDEX tasks_user_priority_idx;
DROP INDEX tasks_user_due_desc_idx;
DROP INDEX tasks_user_due_asc_idx;
DROP INDEX tasks_user_updated_idx;
