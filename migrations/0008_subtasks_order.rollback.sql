DROP INDEX tasks_user_position_idx;
DROP INDEX tasks_user_parent_position_idx;
ALTER TABLE tasks
    DROP CONSTRAINT parent_is_the_users,
    DROP CONSTRAINT parent_is_another_task,
    DROP COLUMN position,
    DROP COLUMN parent_id;
