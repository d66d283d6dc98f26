-- Most events carry no idempotency key; they need no entry in its unique index.
DROP INDEX events_idempotency;
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, environment_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
