-- Connectors: a tenant's action types over HTTP (base URL, auth, a request template and an
-- output mapping per action), as the JSON definition the API took.
CREATE TABLE connectors (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
);
