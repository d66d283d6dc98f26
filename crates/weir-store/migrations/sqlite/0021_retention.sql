-- Retention deletes the approvals of the executions it prunes, found by execution.
CREATE INDEX approvals_execution ON approvals (execution_id);
