-- Keep a batch's answer with the Idempotency-Key it claimed, in the batch's own transaction.
-- $1 user_id
-- $2 idempotency_key
-- $3 response (the JSON body sent)
UPDATE batch_keys
SET response = $3
WHERE user_id = $1 AND key = $2
