-- Notifications: what must be told (notification_events, written in the
-- transaction that changed the incident or window: an outbox), to whom
-- (deliveries, one per event and recipient, whose id is the stable
-- webhook-id / Message-ID across retries and restarts) and how each try
-- went (delivery_attempts: the delivery log).
ALTER TABLE subscribers ADD COLUMN format TEXT NOT NULL DEFAULT 'stormwatch';
ALTER TABLE subscribers ADD COLUMN page_root TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN confirm_sent_at BIGINT;
ALTER TABLE subscribers ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscribers ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN mail_from TEXT NOT NULL DEFAULT '';

CREATE TABLE notification_events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    impact_rank  INTEGER NOT NULL,
    -- only_subscriber narrows the event to one subscriber (the double
    -- opt-in mail); empty: everyone whose components and impact match.
    only_subscriber TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    fanned_out_at BIGINT
);
CREATE INDEX notification_events_pending ON notification_events (fanned_out_at, created_at);

CREATE TABLE notification_event_components (
    event_id     TEXT NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL,
    PRIMARY KEY (event_id, component_id)
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
    subscriber_id   TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (event_id, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, created_at);

CREATE TABLE delivery_attempts (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           BIGINT NOT NULL,
    duration_us  BIGINT NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);

CREATE TABLE installation_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
