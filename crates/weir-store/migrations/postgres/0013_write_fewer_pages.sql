-- As in SQLite's 0013: fewer indexes written per recorded run, and listings in index order.
-- Step records are read by their primary key's execution_id prefix, sorted in memory.
DROP INDEX step_executions_order;

-- Events are looked up and listed within their scope, newest first.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (tenant_id, environment_id, id);
DROP INDEX events_type;
CREATE INDEX events_type ON events (tenant_id, environment_id, event_type, id);

-- Executions likewise: keyed within their scope, which also lists them newest first.
ALTER TABLE executions DROP CONSTRAINT executions_pkey;
ALTER TABLE executions ADD PRIMARY KEY (tenant_id, environment_id, id);
DROP INDEX executions_scope;

-- The executions of a workflow that have not finished (a delete must cancel them).
DROP INDEX executions_workflow;
CREATE INDEX executions_active ON executions (tenant_id, environment_id, workflow_id, id)
    WHERE status NOT IN ('completed', 'failed', 'cancelled');

-- The executions an event started (answering a repeated idempotency key), within its scope.
DROP INDEX executions_event;
CREATE INDEX executions_event ON executions (tenant_id, environment_id, event_id, id);
