-- Runs of sub-workflows, by id. A run's id begins with the time it was made, which lets the
-- executions list read a time range as an id range; a sub-workflow's run has its parent's id
-- (and time) at the start of its own, so a range with a lower bound reads these apart. Runs
-- without a parent, nearly all of them, never enter this index.
CREATE INDEX executions_children ON executions (tenant_id, environment_id, id)
    WHERE parent_id IS NOT NULL;
