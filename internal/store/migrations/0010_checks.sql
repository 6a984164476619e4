-- Monitors: checks of a component run from nodes or from the server. The
-- latest state per location, the spans a check was down by the verdict of
-- its locations (measured uptime), and latency in ten-minute buckets (the
-- response-time chart). A failing check is a signal like an attack: it is
-- recorded in attacks under the workspace's server node, with the check
-- and the agreeing locations in attacks.monitor.
CREATE TABLE checks (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    target       TEXT NOT NULL,
    spec         TEXT NOT NULL,
    on_server    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX checks_component ON checks (component_id);
CREATE INDEX checks_server ON checks (on_server);

CREATE TABLE check_locations (
    check_id     TEXT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    location     TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    up           BOOLEAN NOT NULL,
    since        BIGINT NOT NULL,
    reported_at  BIGINT NOT NULL,
    latency_ms   DOUBLE PRECISION NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    warning      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (check_id, location)
);

CREATE TABLE check_outages (
    id           TEXT PRIMARY KEY,
    check_id     TEXT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX check_outages_component ON check_outages (workspace_id, component_id, started_at);
CREATE INDEX check_outages_check ON check_outages (check_id, ended_at);

CREATE TABLE check_latency (
    check_id     TEXT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    bucket       BIGINT NOT NULL,
    runs         INTEGER NOT NULL,
    fails        INTEGER NOT NULL,
    latency_sum  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (check_id, bucket)
);

ALTER TABLE attacks ADD COLUMN monitor TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent';
