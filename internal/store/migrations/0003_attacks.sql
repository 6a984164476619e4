-- Attacks as the agents saw them: one row per attack with its latest
-- state, and every event received (the metrics timeline), each stored
-- once whatever the retries.
CREATE TABLE attacks (
    id               TEXT NOT NULL,
    node_id          TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    target           TEXT NOT NULL,
    phase            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    classification   TEXT NOT NULL,
    confidence       DOUBLE PRECISION NOT NULL DEFAULT 0,
    title            TEXT NOT NULL,
    vectors          TEXT NOT NULL DEFAULT '[]',
    pps              BIGINT NOT NULL DEFAULT 0,
    bps              BIGINT NOT NULL DEFAULT 0,
    peak_pps         BIGINT NOT NULL DEFAULT 0,
    peak_bps         BIGINT NOT NULL DEFAULT 0,
    distinct_sources BIGINT NOT NULL DEFAULT 0,
    top_sources      TEXT NOT NULL DEFAULT '[]',
    last_seq         INTEGER NOT NULL,
    started_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    ended_at         BIGINT,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX attacks_workspace ON attacks (workspace_id, started_at);

CREATE TABLE attack_events (
    id           TEXT NOT NULL,
    node_id      TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    attack_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    type         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    payload      TEXT NOT NULL,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX attack_events_attack ON attack_events (node_id, attack_id, seq);
