-- Custom domains are checked (CNAME, or a TXT token) on demand and
-- periodically; certificates, keys and the ACME account live in the
-- database so that every replica serves what one obtained, and issuing is
-- coordinated by leased locks. DKIM keys sign mail from a workspace's
-- own domain.
ALTER TABLE domains ADD COLUMN checked_at BIGINT;
ALTER TABLE domains ADD COLUMN check_error TEXT NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN verified_by TEXT NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN failing_since BIGINT;

CREATE TABLE tls_objects (
    key      TEXT PRIMARY KEY,
    value    BYTEA NOT NULL,
    modified BIGINT NOT NULL
);

CREATE TABLE tls_locks (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE dkim_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    domain       TEXT NOT NULL,
    selector     TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, domain)
);
