-- Chat and on-call channels: what a tool answered to the first message
-- about an incident (a Telegram message id), so that its updates reply to
-- it.
CREATE TABLE delivery_threads (
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    subject_id    TEXT NOT NULL,
    ref           TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (subscriber_id, subject_id)
);

-- Inbound alerts may name the components they affect (Alertmanager's
-- component label) instead of the node's.
ALTER TABLE attacks ADD COLUMN components TEXT NOT NULL DEFAULT '';

-- Operators' own alert channels: subscribers that hear the admin notices
-- (drafts waiting, attacks not published, disabled subscribers, domains
-- and certificates failing) instead of the public incidents.
ALTER TABLE subscribers ADD COLUMN operator BOOLEAN NOT NULL DEFAULT FALSE;

-- The kinds of subscription a workspace's public page offers (JSON list;
-- empty: email and webhook).
ALTER TABLE workspaces ADD COLUMN subscribe_channels TEXT NOT NULL DEFAULT '';
