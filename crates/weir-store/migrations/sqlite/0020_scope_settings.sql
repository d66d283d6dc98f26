-- Settings of a tenant × environment, by name, as JSON (`llm`: the chat endpoint that turns
-- prompts into workflows). Anything secret in a value is the name of a secret, never its value.
CREATE TABLE scope_settings (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
) WITHOUT ROWID;
