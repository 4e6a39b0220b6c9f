-- depends: 0008_subtasks_order
-- Batches (POST /tasks/batch): one change per transaction, and answers kept for Idempotency-Key replays.
--
-- task_sync.bumped_by is the transaction that last advanced the user's counter. A write advances the
-- counter only when it is not that transaction, so however many statements one transaction runs (a batch),
-- it takes one number and stamps every task it changes with it: one step of the change feed, one notice.
-- A row a write inserts (a user's first) belongs to that write's transaction; sync/lock inserts its rows
-- with no bumped_by, since locking changes nothing.
ALTER TABLE task_sync ADD COLUMN bumped_by xid8;
ALTER TABLE task_sync ALTER COLUMN bumped_by SET DEFAULT pg_current_xact_id();

-- One row per (user, Idempotency-Key) of a batch, holding the answer it gave, to give again on a repeat.
-- Apart from idempotency_keys: a create's key brings back its task as it is now, a batch's key its answer.
CREATE TABLE batch_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
