-- The batch that claimed an Idempotency-Key: the hash of its body and the answer it gave.
-- $1 user_id
-- $2 idempotency_key
SELECT request_hash, response
FROM batch_keys
WHERE user_id = $1 AND key = $2
