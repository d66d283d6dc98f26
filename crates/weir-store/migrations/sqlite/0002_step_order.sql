-- Step records are listed in the order they were first written; two steps can start within
-- the same millisecond, so the time is not enough.
ALTER TABLE step_executions ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX step_executions_order ON step_executions (execution_id, seq);
