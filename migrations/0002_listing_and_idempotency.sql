-- depends: 0001_tasks
-- Indexes for every list order (all lead with user_id and skip deleted rows, as the list does),
-- tag containment, and the idempotency keys of POST /tasks.

CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id) WHERE status <> 'deleted';
CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, due_date ASC NULLS LAST, id ASC) WHERE status <> 'deleted';
CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_date DESC NULLS LAST, id DESC) WHERE status <> 'deleted';
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority_rank, id) WHERE status <> 'deleted';
-- Title sorts case-insensitively and by code point ("C"), the same on every server whatever its locale.
CREATE INDEX tasks_user_title_idx ON tasks (user_id, (lower(title) COLLATE "C"), id) WHERE status <> 'deleted';
CREATE INDEX tasks_tags_idx ON tasks USING gin (tags) WHERE status <> 'deleted';

-- One row per (user, Idempotency-Key): the unique key makes concurrent repeats create one task.
CREATE TABLE idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    task_id      uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
