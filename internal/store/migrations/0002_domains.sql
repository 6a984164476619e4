-- Custom domains: a hostname serves the public page of one workspace once
-- verified (verification itself lives with the domains feature).
CREATE TABLE domains (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    hostname     TEXT NOT NULL UNIQUE,
    verify_token TEXT NOT NULL DEFAULT '',
    verified_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX domains_workspace ON domains (workspace_id);
