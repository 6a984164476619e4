-- Automation: incidents that are not public (drafts waiting for an
-- operator, observations of what would have been published), the link
-- from an agent's attack to the incident it feeds, and durable timers
-- (publish after a delay, resolve after the hold-down) that fire once
-- whatever the restarts and replicas.
ALTER TABLE incidents ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';

CREATE TABLE attack_incidents (
    node_id      TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    attack_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (node_id, attack_id)
);
CREATE INDEX attack_incidents_incident ON attack_incidents (incident_id);

CREATE TABLE timers (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    ref          TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    done_at      BIGINT,
    UNIQUE (workspace_id, kind, ref)
);
CREATE INDEX timers_due ON timers (done_at, due_at);
