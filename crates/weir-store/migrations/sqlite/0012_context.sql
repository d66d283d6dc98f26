-- Context enrichment (seed 000 §3.5): a tenant's data sources (an entity's data, loaded when a
-- run starts through a connector action or from Weir's records), and the cache of what they
-- loaded, per source and entity, until it expires.
CREATE TABLE data_sources (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
);

CREATE TABLE context_cache (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    source TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    data TEXT NOT NULL,
    cached_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, source, entity_id)
);
CREATE INDEX context_cache_entity ON context_cache (tenant_id, environment_id, entity_type, entity_id);
