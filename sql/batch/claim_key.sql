-- Claim an Idempotency-Key for a batch; no row back means the key is taken and batch/find_key says by what.
-- $1 user_id
-- $2 idempotency_key
-- $3 request_hash (of the parsed body)
-- Run under the counter lock (sync/lock), so a repeat sent meanwhile waits for the first batch to commit
-- and then finds its answer. A key over 24 hours old is free again, as on POST.
INSERT INTO batch_keys AS k (user_id, key, request_hash)
VALUES ($1, $2, $3)
ON CONFLICT (user_id, key) DO UPDATE
    SET request_hash = excluded.request_hash, response = NULL, created_at = now()
    WHERE k.created_at < now() - interval '24 hours'
RETURNING k.key
