-- API keys can expire; the bootstrap key is the platform admin's (it manages tenants).
ALTER TABLE api_keys ADD COLUMN expires_ms BIGINT;
ALTER TABLE api_keys ADD COLUMN platform BIGINT NOT NULL DEFAULT 0;
UPDATE api_keys SET platform = 1 WHERE name = 'bootstrap admin';
CREATE INDEX api_keys_scope ON api_keys (tenant_id, created_ms);
