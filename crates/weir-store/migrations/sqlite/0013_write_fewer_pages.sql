-- Every B-tree a commit touches is at least one more page in the WAL and one more page for the
-- checkpoint to copy, and under load that, not SQL, is most of the cost of recording a run.
--
-- Step records are read by their primary key's execution_id prefix and sorted in memory; the
-- index by `seq` was one more B-tree to write.
DROP INDEX step_executions_order;

-- Events are looked up and listed within their scope, newest first (by id, which is
-- time-ordered); the key on id alone was one more B-tree, and listings sorted the whole scope.
CREATE TABLE events_scoped (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    source TEXT,
    idempotency_key TEXT,
    payload TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, id)
);
INSERT INTO events_scoped (id, tenant_id, environment_id, event_type, source, idempotency_key, payload, received_ms)
    SELECT id, tenant_id, environment_id, event_type, source, idempotency_key, payload, received_ms FROM events;
DROP TABLE events;
ALTER TABLE events_scoped RENAME TO events;
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, environment_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_type ON events (tenant_id, environment_id, event_type, id);

-- Executions likewise: keyed within their scope, which also lists them newest first (the
-- index by start time made every listing sort the whole scope), and no separate key on id.
CREATE TABLE executions_scoped (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    workflow_version BIGINT NOT NULL,
    event_id TEXT,
    parent_id TEXT,
    status TEXT NOT NULL,
    decision TEXT,
    reason TEXT,
    error TEXT,
    state TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    completed_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_ms BIGINT,
    epoch BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, id)
);
INSERT INTO executions_scoped (id, tenant_id, environment_id, workflow_id, workflow_version, event_id, parent_id,
        status, decision, reason, error, state, started_ms, completed_ms, updated_ms, lease_owner, lease_expires_ms, epoch)
    SELECT id, tenant_id, environment_id, workflow_id, workflow_version, event_id, parent_id,
        status, decision, reason, error, state, started_ms, completed_ms, updated_ms, lease_owner, lease_expires_ms, epoch
    FROM executions;
DROP TABLE executions;
ALTER TABLE executions_scoped RENAME TO executions;

-- The executions of a workflow that have not finished (a delete must cancel them): most runs
-- finish as they are recorded, and never enter this index.
CREATE INDEX executions_active ON executions (tenant_id, environment_id, workflow_id, id)
    WHERE status NOT IN ('completed', 'failed', 'cancelled');

-- The executions an event started (answering a repeated idempotency key), within its scope.
CREATE INDEX executions_event ON executions (tenant_id, environment_id, event_id, id);
