-- Incident templates: incidents written in advance, applied in one step
-- or named by a rule for its automatic texts.
CREATE TABLE incident_templates (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL,
    message      TEXT NOT NULL,
    impact       TEXT NOT NULL,
    components   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
