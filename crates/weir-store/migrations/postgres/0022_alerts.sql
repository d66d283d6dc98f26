-- Alert rules of a tenant × environment: the rule as JSON, and where it stands (`ok` or
-- `firing`), changed only from the state read, so a breach is told once.
CREATE TABLE alerts (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    id TEXT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    value TEXT,
    changed_ms BIGINT,
    evaluated_ms BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, id)
);

-- Work done by one node at a time (the evaluation of alerts): whoever holds the name until it
-- expires.
CREATE TABLE node_leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
