-- Signed webhook deliveries seen within their replay window: a signature seen again is a
-- replay. Rows past their window are deleted as new ones arrive.
CREATE TABLE webhook_deliveries (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, signature)
);
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (expires_ms);
