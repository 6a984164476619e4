-- Attack captures: the pcapng an agent kept around an attack's onset
-- (packet headers from before it and its first seconds), kept for
-- forensics and the provider's upstream until the retention ends.
CREATE TABLE attack_captures (
    node_id      TEXT NOT NULL,
    attack_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    data         BYTEA NOT NULL,
    size         BIGINT NOT NULL,
    packets      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (node_id, attack_id),
    FOREIGN KEY (node_id, attack_id) REFERENCES attacks (node_id, id) ON DELETE CASCADE
);
CREATE INDEX attack_captures_created ON attack_captures (created_at);
