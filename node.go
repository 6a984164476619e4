package stormwatch

import (
	"encoding/json"
	"time"
)

// Node is a monitored machine running the agent (or a flow exporter),
// linked to the components whose traffic it watches. It authenticates with
// its own token, of which only a hash is kept.
type Node struct {
	ID              string          `json:"id"`
	WorkspaceID     string          `json:"-"`
	Name            string          `json:"name"`
	TokenPrefix     string          `json:"token_prefix"`
	Components      []string        `json:"components"`
	LastHeartbeatAt *time.Time      `json:"last_heartbeat_at"`
	LastHeartbeat   json.RawMessage `json:"last_heartbeat,omitempty"`
	// MitigationPolicy, when set, overrides the policy of the agent's
	// --bgp file (which attacks get a blackhole or a FlowSpec rule).
	MitigationPolicy json.RawMessage `json:"mitigation_policy,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

// Heartbeat is what a node's agent reports every few seconds: that it is
// alive, and the traffic it sees.
type Heartbeat struct {
	AgentVersion  string `json:"agent_version"`
	Source        string `json:"source"`
	PPS           uint64 `json:"pps"`
	BPS           uint64 `json:"bps"`
	Hosts         int    `json:"hosts"`
	ActiveAttacks int    `json:"active_attacks"`
	SpoolBacklog  int    `json:"spool_backlog"`
}
