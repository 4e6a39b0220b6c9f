-- The task as the API returns it, one JSON object as text, from a row of the task's columns (tasks, or a `{task_columns}` row).
-- The bytes msgspec writes for service.schemas.Task: its fields in order, compact, timestamps in UTC with a Z and
-- microseconds only when not zero, recurrence's keys in its struct's order. Built by concatenation rather than
-- row_to_json, which looks up every column's type again on every row (a fifth more CPU for a page); the
-- columns left unescaped cannot need it (uuid, integer, boolean, and the CHECKed status, priority and
-- position), every other text goes through to_json. The colons of the timestamp format are quoted text, so
-- pgbench (which runs tasks/get in the bench) sees no variable there.
'{"id":"' || id || '","user_id":' || to_json(user_id) || ',"title":' || to_json(title)
|| ',"description":' || coalesce(to_json(description)::text, 'null')
|| ',"status":"' || status || '","priority":"' || priority || '","completed":' || (status = 'completed')
|| ',"due_date":' || coalesce('"' || replace(to_char(due_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') || '"', 'null')
|| ',"tags":' || to_json(tags)
|| ',"completed_at":' || coalesce('"' || replace(to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') || '"', 'null')
|| ',"created_at":"' || replace(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z')
|| '","updated_at":"' || replace(to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z')
|| '","version":' || version || ',"parent_id":' || coalesce('"' || parent_id || '"', 'null')
|| ',"position":"' || position
|| '","recurrence":' || coalesce('{"rule":' || (recurrence -> 'rule')::text || ',"timezone":'
                                 || (recurrence -> 'timezone')::text || ',"from":' || (recurrence -> 'from')::text || '}', 'null')
|| ',"last_completed_at":' || coalesce('"' || replace(to_char(last_completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z') || '"', 'null')
|| '}'
