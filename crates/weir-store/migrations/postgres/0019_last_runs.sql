-- When each workflow's newest run started, for the workflows list ("last run"): written by
-- the statement that records runs, once per workflow per batch. `shard` as in 0017.
CREATE TABLE workflow_last_runs (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    started_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id, shard)
);

INSERT INTO workflow_last_runs (tenant_id, environment_id, workflow_id, shard, started_ms)
SELECT tenant_id, environment_id, workflow_id, 0, MAX(started_ms) FROM executions
GROUP BY tenant_id, environment_id, workflow_id;
