-- Tell every listening worker which users' change counters moved (the live-update notices), in one transaction.
-- $1 payloads (one JSON object per user: {"user_id", "seq", "at"}; channel task_changes)
-- Sent by service/notices.py once the writes have committed, a batch per statement, rather than inside
-- each write: NOTIFY holds a lock on the whole database's notice queue from before its commit until the
-- commit record is flushed, so a notice in every write made every write of every user queue for a disk
-- flush of its own (about 6x fewer writes per second measured). This transaction commits asynchronously
-- (no flush wait, so the lock is short): a crash may lose a notice, never a write; streams catch up on
-- their next event or reconnect.
SELECT set_config('synchronous_commit', 'off', true), count(pg_notify('task_changes', payload))
FROM unnest($1::text[]) AS payload
