-- Languages: a workspace's default page language, the language a
-- subscriber subscribed in (their mails), and the translations of
-- automatic incident texts (JSON objects, language code -> text).
ALTER TABLE workspaces ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN title_translations TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_updates ADD COLUMN message_translations TEXT NOT NULL DEFAULT '';

-- Private pages: readable with a password (hashed), from listed address
-- ranges (JSON list of prefixes) or by invitation (page_invites); the
-- access key signs readers' access cookies, and a new one revokes them
-- all. A private component is shown only to readers with access.
ALTER TABLE workspaces ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE workspaces ADD COLUMN access_password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN access_ip_ranges TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN access_key TEXT NOT NULL DEFAULT '';
ALTER TABLE components ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE page_invites (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, email)
);
