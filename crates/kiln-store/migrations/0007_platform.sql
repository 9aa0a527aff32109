-- The open platform: scoped and revocable keys, platform admin keys, the
-- audit log, immutable catalog versions, and the outbox of events with the
-- webhooks that deliver them.

-- Keys: scopes (space-separated), a recognisable prefix, revocation, and an
-- expiry for the old key of a rotation. Keys from before hold `admin`.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
CREATE INDEX api_keys_by_brand ON api_keys (brand_id, created_at);
CREATE TABLE admin_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    brand_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_by_brand ON audit_log (brand_id, at);

-- Catalog versions: every publish is a new, immutable version. The files
-- stored before become version 1.
CREATE TABLE catalog_versions (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    version BIGINT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    products TEXT NOT NULL,
    PRIMARY KEY (brand_id, version)
);
CREATE TABLE catalog_version_files (
    brand_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (brand_id, version, name)
);
INSERT INTO catalog_versions (brand_id, version, published_at, published_by, products)
    SELECT brand_id, 1, MAX(updated_at), 'migration', '' FROM catalog_files GROUP BY brand_id;
INSERT INTO catalog_version_files (brand_id, version, kind, name, source)
    SELECT brand_id, 1, kind, name, source FROM catalog_files;
DROP TABLE catalog_files;
-- An order line keeps the version it was configured against; a work order
-- batches only lines of one version (its routing is that version's).
ALTER TABLE order_lines ADD COLUMN catalog_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE work_orders ADD COLUMN catalog_version BIGINT NOT NULL DEFAULT 1;

-- The outbox: every event, written in the transaction of the change it
-- reports. The payload is the exact body webhooks sign and send.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    brand_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_by_brand ON events (brand_id, created_at);
CREATE TABLE webhook_endpoints (
    brand_id TEXT NOT NULL REFERENCES brands(id),
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_expires_at BIGINT,
    enabled BIGINT NOT NULL,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_brand ON webhook_endpoints (brand_id, created_at);
CREATE TABLE webhook_subscriptions (
    brand_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_subscriptions_by_type ON webhook_subscriptions (brand_id, event_type);
-- One row per (event, endpoint); its id is `{event}.{endpoint}`, so the
-- change's own transaction can fan an event out with one INSERT ... SELECT.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    brand_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);
-- An endpoint back after failures: its waiting retries.
CREATE INDEX webhook_deliveries_waiting ON webhook_deliveries (endpoint_id, state, next_attempt_at);
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    brand_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    duration_ms BIGINT NOT NULL,
    response TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
