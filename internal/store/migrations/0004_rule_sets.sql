-- Each workspace's auto-publish rule text; a workspace without a row uses
-- the default rule set.
CREATE TABLE rule_sets (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
