-- Schedule triggers: one row per fire of a schedule, so each fire starts exactly one execution
-- however many nodes see it due (the primary key is the agreement), and so a node that starts
-- knows when each schedule last fired. A fire whose trigger condition did not hold is recorded
-- without an execution.
CREATE TABLE schedule_fires (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    trigger_index BIGINT NOT NULL,
    fire_ms BIGINT NOT NULL,
    execution_id TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id, trigger_index, fire_ms)
);
