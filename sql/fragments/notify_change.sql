-- The live-update notice of a counter bump, in a RETURNING of task_sync aliased `s` (`{notify_change}` in sql/).
-- PostgreSQL delivers it when the transaction commits, and only then. Payload: {"user_id", "seq", "at"}.
pg_notify('task_changes',
          json_build_object('user_id', s.user_id, 'seq', s.change_seq,
                            'at', extract(epoch FROM clock_timestamp()))::text)
