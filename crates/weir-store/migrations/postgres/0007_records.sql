-- What actions write inside Weir: generic records (entity type + id + JSON fields), notes on
-- them, in-app notifications, the email outbox and email templates. `op_key` is the writing
-- action's idempotency key, so a repeated attempt finds its first write instead of a second.
CREATE TABLE records (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    op_key TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, entity_type, entity_id)
);

CREATE TABLE record_notes (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    note TEXT NOT NULL,
    visibility TEXT NOT NULL,
    execution_id TEXT,
    op_key TEXT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX record_notes_entity ON record_notes (tenant_id, environment_id, entity_type, entity_id, created_ms);
CREATE UNIQUE INDEX record_notes_op ON record_notes (tenant_id, environment_id, op_key);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    link TEXT,
    execution_id TEXT,
    op_key TEXT,
    read_ms BIGINT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (tenant_id, environment_id, recipient, id);
CREATE UNIQUE INDEX notifications_op ON notifications (tenant_id, environment_id, op_key, recipient);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    execution_id TEXT,
    op_key TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX outbox_scope ON outbox (tenant_id, environment_id, id);
CREATE UNIQUE INDEX outbox_op ON outbox (tenant_id, environment_id, op_key);

CREATE TABLE email_templates (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT,
    html_body TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
);
