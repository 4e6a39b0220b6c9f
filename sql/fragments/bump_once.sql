-- The counter bump of a write, after an INSERT INTO task_sync AS s (`{bump_once}` in sql/): one number per transaction.
-- A transaction that already advanced the counter (an earlier operation of a batch) keeps its number, so
-- every task it changes is stamped with one change, and the batch is one step of the change feed.
ON CONFLICT (user_id) DO UPDATE
    SET change_seq = s.change_seq + (s.bumped_by IS DISTINCT FROM pg_current_xact_id())::integer,
        bumped_by = pg_current_xact_id()
