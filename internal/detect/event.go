package detect

import "time"

// Event types, sent to the server in this order over an attack's life.
const (
	EventStarted    = "attack.started"
	EventUpdated    = "attack.updated"
	EventMitigating = "attack.mitigating"
	EventSubsiding  = "attack.subsiding"
	EventEnded      = "attack.ended"
)

// Phases of an attack.
const (
	PhaseDetected   = "detected"
	PhaseMitigating = "mitigating"
	PhaseSubsiding  = "subsiding"
	PhaseEnded      = "ended"
)

// Source is a heavy-hitter source address with its estimated rate.
type Source struct {
	Addr string `json:"addr"`
	PPS  uint64 `json:"pps"`
}

// Event is one step of an attack's life, carrying everything known about
// it at that moment, severity and classification included from the first
// event on. ID is unique and stable, so a resent event is recognised.
type Event struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	AttackID       string     `json:"attack_id"`
	Seq            int        `json:"seq"`
	At             time.Time  `json:"at"`
	Target         string     `json:"target"`
	Phase          string     `json:"phase"`
	Severity       string     `json:"severity"`
	Classification string     `json:"classification"`
	Confidence     float64    `json:"confidence"`
	Vectors        []Vector   `json:"vectors"`
	Title          string     `json:"title"`
	PPS            uint64     `json:"pps"`
	BPS            uint64     `json:"bps"`
	PeakPPS        uint64     `json:"peak_pps"`
	PeakBPS        uint64     `json:"peak_bps"`
	Sources        uint64     `json:"distinct_sources"`
	TopSources     []Source   `json:"top_sources"`
	TopPorts       []uint16   `json:"top_source_ports,omitempty"`
	StartedAt      time.Time  `json:"started_at"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
}
