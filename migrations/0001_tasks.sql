-- The tasks table: one row per task, keyed by (user_id, id) so every lookup
-- is an index hit and one user's rows sit together.
-- CHECKs repeat the API's validation rules as the last line of defence.
CREATE TABLE tasks (
    user_id       text        NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 255),
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    title         text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    description   text                 CHECK (char_length(description) BETWEEN 1 AND 10000),
    status        text        NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'in_progress', 'completed', 'deleted')),
    priority      text        NOT NULL DEFAULT 'medium'
                              CHECK (priority IN ('low', 'medium', 'high')),
    -- Sorting by priority means by rank, not alphabetically; a stored rank keeps that indexable.
    priority_rank smallint    GENERATED ALWAYS AS (
                                  CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END
                              ) STORED,
    due_date      timestamptz,
    tags          text[]      NOT NULL DEFAULT '{}'
                              CHECK (cardinality(tags) <= 20 AND array_position(tags, NULL) IS NULL),
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at    timestamptz,
    PRIMARY KEY (user_id, id),
    CONSTRAINT completed_at_follows_status
        CHECK (status = 'deleted' OR (status = 'completed') = (completed_at IS NOT NULL)),
    CONSTRAINT deleted_at_follows_status
        CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);

-- The default listing: a user's live tasks, newest first.
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC)
    WHERE status <> 'deleted';
