-- depends: 0003_list_keys
-- A task as the API's JSON, rendered by PostgreSQL for list pages: a page of 1,000 tasks then costs
-- the service one text column per task instead of thirteen decoded values, a struct and an encode.
-- It must match service.schemas.Task as msgspec encodes it (tests/api/test_list_json.py compares them):
-- timestamps in UTC with Z, microseconds only when non-zero.
CREATE FUNCTION api_timestamp(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_trunc('second', ts) = ts THEN '' ELSE to_char(ts AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

CREATE FUNCTION task_json(t tasks) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT json_build_object(
        'id', t.id,
        'user_id', t.user_id,
        'title', t.title,
        'description', t.description,
        'status', t.status,
        'priority', t.priority,
        'completed', t.status = 'completed',
        'due_date', api_timestamp(t.due_date),
        'tags', t.tags,
        'completed_at', api_timestamp(t.completed_at),
        'created_at', api_timestamp(t.created_at),
        'updated_at', api_timestamp(t.updated_at),
        'version', t.version
    )::text
$$;

-- The driver maps the edges of Python's datetime to +/-infinity; a due date is always a real instant.
ALTER TABLE tasks ADD CONSTRAINT due_date_is_finite CHECK (isfinite(due_date));
