-- depends: 0006_change_feed
-- Recurring tasks: the rule as the API shows it (service.recurrence.Recurrence, defaults filled in),
-- when the task was last completed, and how many completions it has had since its rule or due date
-- last changed (COUNT counts completions, not occurrences).
-- The CHECK is the last line of defence behind the API's validation: the object's shape only; the rule
-- itself is checked by the service, which alone knows the RRULE subset and the IANA zone names.
ALTER TABLE tasks
    ADD COLUMN recurrence        jsonb,
    ADD COLUMN last_completed_at timestamptz,
    ADD COLUMN completions       integer NOT NULL DEFAULT 0 CHECK (completions >= 0);

-- CASE, because removing keys from a scalar is an error, not false; IS TRUE, because a missing key
-- makes its test null, which a CHECK would let pass.
ALTER TABLE tasks ADD CONSTRAINT recurrence_shape CHECK (
    recurrence IS NULL OR CASE WHEN jsonb_typeof(recurrence) = 'object' THEN (
        recurrence - 'rule' - 'timezone' - 'from' = '{}'::jsonb
        AND jsonb_typeof(recurrence -> 'rule') = 'string'
        AND char_length(recurrence ->> 'rule') BETWEEN 6 AND 500
        AND jsonb_typeof(recurrence -> 'timezone') = 'string'
        AND recurrence ->> 'from' IN ('due', 'completion')
    ) IS TRUE ELSE false END
);

-- A recurring task moves its due date on: it must have one (deleted tasks keep what they had).
ALTER TABLE tasks ADD CONSTRAINT recurrence_needs_due_date CHECK (recurrence IS NULL OR due_date IS NOT NULL);
