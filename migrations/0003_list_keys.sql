-- depends: 0002_listing_and_idempotency
-- due_date sorts by a key that is never null (no due date counts as +infinity ascending, -infinity
-- descending, so it comes last both ways): the keyset condition becomes one row comparison that an
-- index can seek to, however deep the page.
DROP INDEX tasks_user_due_asc_idx;
DROP INDEX tasks_user_due_desc_idx;
CREATE INDEX tasks_user_due_last_asc_idx
    ON tasks (user_id, coalesce(due_date, 'infinity'::timestamptz), id) WHERE status <> 'deleted';
CREATE INDEX tasks_user_due_last_desc_idx
    ON tasks (user_id, coalesce(due_date, '-infinity'::timestamptz) DESC, id DESC) WHERE status <> 'deleted';

-- Tag filters look inside one user's tasks: a GIN over (user_id, tags) instead of one over every
-- user's tags (btree_gin lets user_id sit in a GIN index; Neon and stock PostgreSQL ship it).
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX tasks_tags_idx;
CREATE INDEX tasks_user_tags_idx ON tasks USING gin (user_id, tags) WHERE status <> 'deleted';
