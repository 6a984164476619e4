package stormwatch

import "time"

// Group gathers components on the public page.
type Group struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"-"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Position    int       `json:"position"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Component is a thing customers care about, shown with a status.
type Component struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"-"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	GroupID     string          `json:"group_id"`
	Position    int             `json:"position"`
	Status      ComponentStatus `json:"status"`
	// Private shows the component only to readers with access to the
	// page (see PageAccess); everyone else never learns it exists.
	Private   bool      `json:"private"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StatusChange records that a component entered a status at a time; the
// public page computes uptime from this history.
type StatusChange struct {
	ID          string          `json:"id"`
	ComponentID string          `json:"component_id"`
	Status      ComponentStatus `json:"status"`
	IncidentID  string          `json:"incident_id"`
	At          time.Time       `json:"at"`
}
