-- Debounced event triggers (seed 003): the first event for a key opens a window; later ones
-- replace its payload; when the window closes, one execution starts with the latest payload.
CREATE TABLE debounces (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    debounce_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id, debounce_key)
);
CREATE INDEX debounces_due ON debounces (due_ms);
