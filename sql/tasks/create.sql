-- Insert one task and return it; completed_at is set when it starts completed.
-- $1 user_id
-- $2 title
-- $3 description
-- $4 status
-- $5 priority
-- $6 due_date
-- $7 tags
INSERT INTO tasks (user_id, title, description, status, priority, due_date, tags, completed_at)
VALUES ($1, $2, $3, $4::text, $5, $6, $7,
        CASE WHEN $4::text = 'completed' THEN now() END)
RETURNING id, user_id, title, description, status, priority, status = 'completed' AS completed,
          due_date, tags, completed_at, created_at, updated_at, version
