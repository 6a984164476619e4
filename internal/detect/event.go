package detect

import sw "github.com/stormwatch/stormwatch"

// The events and their parts are the domain's wire types: what the agent
// sends is what the server stores.
type (
	// Event is one step of an attack's life.
	Event = sw.AttackEvent
	// Vector is one kind of traffic in an attack.
	Vector = sw.Vector
	// Source is a heavy-hitter source.
	Source = sw.AttackSource
)

// Event types and phases, re-exported for the detector's callers.
const (
	EventStarted    = sw.EventStarted
	EventUpdated    = sw.EventUpdated
	EventMitigating = sw.EventMitigating
	EventSubsiding  = sw.EventSubsiding
	EventEnded      = sw.EventEnded

	PhaseDetected   = sw.PhaseDetected
	PhaseMitigating = sw.PhaseMitigating
	PhaseSubsiding  = sw.PhaseSubsiding
	PhaseEnded      = sw.PhaseEnded
)

// Vector kinds.
const (
	VectorUDPFlood      = sw.VectorUDPFlood
	VectorSYNFlood      = sw.VectorSYNFlood
	VectorSYNACK        = sw.VectorSYNACKReflection
	VectorACKFlood      = sw.VectorACKFlood
	VectorRSTFINFlood   = sw.VectorRSTFINFlood
	VectorTCPFlood      = sw.VectorTCPFlood
	VectorICMPFlood     = sw.VectorICMPFlood
	VectorFragmentFlood = sw.VectorFragmentFlood
	VectorGREFlood      = sw.VectorGREFlood
	VectorAmplification = sw.VectorAmplification
	VectorReflection    = sw.VectorReflection
	VectorCarpet        = sw.VectorCarpet
	VectorOther         = sw.VectorOther
)
