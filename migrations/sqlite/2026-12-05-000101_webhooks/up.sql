-- Webhooks (issue 12 §2): endpoints a company registers, the outbox of events written in the
-- same transaction as the change that caused them, one delivery per (event, endpoint), and
-- every attempt made for a delivery.

-- An endpoint. The signing secret (`whsec_…`) is shown once and kept AES-256-GCM encrypted
-- under a key derived from SECRET_KEY: the console must sign with it, so it cannot be a hash.
-- During a rotation the previous secret keeps signing too until `previous_secret_expires_at`.
-- `event_types` is a comma-separated list of event names. `failing_since` is the first failed
-- attempt of the current run of failures; `disabled_at` is set when that run passes 3 days
-- (or an admin switches the endpoint off).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    endpoint TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    secret_encrypted TEXT NOT NULL,
    secret_prefix TEXT NOT NULL,
    previous_secret_encrypted TEXT,
    previous_secret_expires_at TIMESTAMP,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    failing_since TIMESTAMP,
    created_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_endpoints_company ON webhook_endpoints (company_id, created_at);

-- The outbox: one row per event, its id is the `webhook-id` every delivery of it carries.
-- `payload` is the JSON body sent (a top-level `webhookType` plus the event's fields; never a
-- secret).
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_events_company ON webhook_events (company_id, created_at);

-- One delivery of one event to one endpoint, written with the event. `state` is `pending`,
-- `succeeded` or `failed` (gave up). A worker claims a due delivery by moving `next_attempt_at`
-- forward past the attempt's timeout (`locked_until`), under FOR UPDATE SKIP LOCKED on
-- PostgreSQL, so two instances never attempt one delivery at once and a crashed attempt is
-- taken up again when the lease runs out.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES webhook_events(id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    company_id TEXT NOT NULL REFERENCES companies(id),
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    completed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every attempt: when, the HTTP status (NULL when no answer came), how long it took, the first
-- bytes of the answer or the error.
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    response_excerpt TEXT,
    error TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at);
