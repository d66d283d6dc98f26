-- Weir's schema (SQLite). Times are milliseconds since the Unix epoch; JSON is TEXT.
-- Every table carries tenant_id and environment_id, and every query filters on them.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE environments (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE workflows (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    deleted_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id)
);

CREATE TABLE workflow_versions (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id, version)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    source TEXT,
    idempotency_key TEXT,
    payload TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, environment_id, idempotency_key);
CREATE INDEX events_type ON events (tenant_id, environment_id, event_type, received_ms);

CREATE TABLE executions (
    id TEXT PRIMARY KEY,
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
    epoch BIGINT NOT NULL
);
CREATE INDEX executions_scope ON executions (tenant_id, environment_id, started_ms);
CREATE INDEX executions_workflow ON executions (tenant_id, environment_id, workflow_id, status);
CREATE INDEX executions_event ON executions (event_id);

CREATE TABLE step_executions (
    execution_id TEXT NOT NULL,
    record_key TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    step_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    record TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (execution_id, record_key)
);

-- The work queue: inputs waiting to be applied to an execution, now or at run_at.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_key TEXT,
    payload TEXT NOT NULL,
    run_at_ms BIGINT NOT NULL
);
CREATE INDEX inbox_due ON inbox (run_at_ms, execution_id);
CREATE INDEX inbox_execution ON inbox (execution_id, run_at_ms);

-- Which executions wait for which event types.
CREATE TABLE awaits (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    thread BIGINT NOT NULL,
    PRIMARY KEY (execution_id, thread)
);
CREATE INDEX awaits_event ON awaits (tenant_id, environment_id, event_type);

CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    approver_role TEXT,
    entity TEXT,
    entity_id TEXT,
    message TEXT,
    requested_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    decided_ms BIGINT,
    decided_by TEXT,
    decision_reason TEXT
);
CREATE INDEX approvals_scope ON approvals (tenant_id, environment_id, status);

CREATE TABLE rules (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, rule_id)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    changes TEXT,
    at_ms BIGINT NOT NULL
);
CREATE INDEX audit_scope ON audit_log (tenant_id, environment_id, at_ms);
