-- Accounts for the dashboard: operators may create workspaces; sessions
-- and one-time links (first-run setup, password reset, invitation) keep
-- only a hash of their secret; failed sign-ins are counted per address
-- so that the limit holds across replicas.
ALTER TABLE users ADD COLUMN operator BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_tokens (
    hash         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX user_tokens_workspace ON user_tokens (workspace_id, kind);

CREATE TABLE login_failures (
    email TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);

-- A short traffic history per node, for the dashboard's sparklines.
CREATE TABLE node_traffic (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    node_id      TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    pps          BIGINT NOT NULL,
    bps          BIGINT NOT NULL
);
CREATE INDEX node_traffic_node ON node_traffic (workspace_id, node_id, at);

-- Uploaded logos and favicons, served by the public page.
CREATE TABLE assets (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Notices to a workspace's owners and admins (a subscriber disabled
-- after a day of failures), written in the transaction that caused them
-- and mailed by the delivery worker: a crash between the two loses none.
CREATE TABLE admin_notices (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX admin_notices_due ON admin_notices (sent_at, next_attempt_at);
