-- The first schema. Written in the SQL both SQLite and PostgreSQL accept:
-- times are BIGINT microseconds since the Unix epoch (UTC), ids are TEXT
-- with a type prefix, JSON is TEXT. Every row that belongs to a workspace
-- carries workspace_id, and every query filters on it.

CREATE TABLE workspaces (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    page_title   TEXT NOT NULL DEFAULT '',
    logo_url     TEXT NOT NULL DEFAULT '',
    favicon_url  TEXT NOT NULL DEFAULT '',
    brand_color  TEXT NOT NULL DEFAULT '',
    footer_links TEXT NOT NULL DEFAULT '[]',
    hide_badge   BOOLEAN NOT NULL DEFAULT FALSE,
    revision     BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE component_groups (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX component_groups_workspace ON component_groups (workspace_id, position);

CREATE TABLE components (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     TEXT REFERENCES component_groups (id) ON DELETE SET NULL,
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, slug)
);

CREATE TABLE component_status_changes (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    incident_id  TEXT NOT NULL DEFAULT '',
    at           BIGINT NOT NULL
);
CREATE INDEX component_status_changes_component ON component_status_changes (component_id, at);

CREATE TABLE nodes (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    token_prefix      TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    last_heartbeat_at BIGINT,
    last_heartbeat    TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX nodes_workspace ON nodes (workspace_id, created_at);

CREATE TABLE node_components (
    node_id      TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (node_id, component_id)
);
CREATE INDEX node_components_component ON node_components (component_id);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL,
    impact       TEXT NOT NULL,
    severity     TEXT NOT NULL,
    source       TEXT NOT NULL,
    pinned       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    resolved_at  BIGINT
);
CREATE INDEX incidents_workspace ON incidents (workspace_id, created_at);

CREATE TABLE incident_components (
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    PRIMARY KEY (incident_id, component_id)
);
CREATE INDEX incident_components_component ON incident_components (component_id);

CREATE TABLE incident_updates (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, created_at);

CREATE TABLE maintenances (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    message      TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    remind_24h   BOOLEAN NOT NULL DEFAULT FALSE,
    remind_1h    BOOLEAN NOT NULL DEFAULT FALSE,
    started_at   BIGINT,
    completed_at BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX maintenances_workspace ON maintenances (workspace_id, starts_at);

CREATE TABLE maintenance_components (
    maintenance_id TEXT NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    component_id   TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);

CREATE TABLE subscribers (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    secret       TEXT NOT NULL DEFAULT '',
    min_impact   TEXT NOT NULL DEFAULT 'none',
    confirmed_at BIGINT,
    disabled_at  BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, type, email, url)
);

CREATE TABLE subscriber_components (
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    component_id  TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    details      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, at);
