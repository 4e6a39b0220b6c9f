-- How many live tasks the user has.
-- $1 user_id
SELECT count(*)
FROM tasks
WHERE user_id = $1 AND status <> 'deleted'
