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
}
