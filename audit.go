package stormwatch

import (
	"encoding/json"
	"time"
)

// Actor kinds recorded in the audit log.
const (
	ActorAPIKey = "api_key"
	ActorUser   = "user"
	ActorNode   = "node"
	ActorSystem = "system"
)

// Actor is who did something: a person, a key, a node or the system itself
// (automation, which also names the rule that decided).
type Actor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditEntry records one change made in a workspace.
type AuditEntry struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	Actor      Actor           `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Details    json.RawMessage `json:"details,omitempty"`
}
