-- The counter bump of a write, the CTE `bump` (`{bump_counter}` in sql/): one number per transaction, taken when the CTE `changed` before it has a row.
-- A transaction that already advanced the counter (an earlier operation of a batch) keeps its number, so
-- every task it changes is stamped with one change, and the batch is one step of the change feed. The
-- INSERT also makes a user's counter row on their first write.
bump AS (
    INSERT INTO task_sync AS s (user_id, change_seq)
    SELECT $1, 1
    WHERE EXISTS (SELECT FROM changed)
    ON CONFLICT (user_id) DO UPDATE
        SET change_seq = s.change_seq + (s.bumped_by IS DISTINCT FROM pg_current_xact_id())::integer,
            bumped_by = pg_current_xact_id()
    RETURNING s.change_seq
)
