-- Secrets, sealed with AES-256-GCM by the server (the store never sees a value), and settings
-- of the installation (the master key's check value).
CREATE TABLE secrets (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
