-- The executions list filtered by a status other than completed (the console's "failed",
-- "waiting", "running"…) reads this index instead of every execution of the scope. Completed
-- runs, nearly all of them under load, never enter it, so recording a run writes no more pages
-- than before.
CREATE INDEX executions_status ON executions (tenant_id, environment_id, status, id)
    WHERE status <> 'completed';
