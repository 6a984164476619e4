package stormwatch

import "time"

// Snapshot is everything a workspace's public page shows, read at one
// moment: the page is rendered from it alone.
type Snapshot struct {
	Workspace  Workspace
	Groups     []Group
	Components []Component
	// Incidents are the unresolved ones and those active within the
	// history window, newest first.
	Incidents []Incident
	// Maintenances are those not completed and those that ended within the
	// window, by start time.
	Maintenances []Maintenance
	// History holds each component's status changes within the window,
	// preceded by the last change before it (the status the window opens
	// with), in time order.
	History map[string][]StatusChange
	// Since is the start of the history window; Now is when it was read.
	Since, Now time.Time
	// Measured holds, for each component with a check (by id), the
	// outage spans its checks measured within the window.
	Measured map[string]*Measured
	// Latency holds, for each component with a check (by id), its main
	// check's response times over the last day, in ten-minute buckets:
	// the first HTTP check, else the first check.
	Latency map[string]*LatencySeries
}

// Measured is what a component's checks measured: since when it is
// checked, and the spans the checks' locations agreed it was down.
type Measured struct {
	Since time.Time
	Down  []Span
}

// Span is a stretch of time; End is nil while it lasts.
type Span struct {
	Start time.Time
	End   *time.Time
}

// LatencySeries is one check's response times.
type LatencySeries struct {
	Check  string // the check's name
	Type   string
	Points []LatencyPoint
}

// LatencyPoint is the mean response time of the runs that passed in a
// bucket starting at At, and how many runs failed.
type LatencyPoint struct {
	At        time.Time
	LatencyMS float64
	Runs      int
	Fails     int
}
