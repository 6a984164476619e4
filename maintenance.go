package stormwatch

import "time"

// Maintenance is a scheduled window during which components are shown
// under_maintenance.
type Maintenance struct {
	ID          string           `json:"id"`
	WorkspaceID string           `json:"-"`
	Title       string           `json:"title"`
	Message     string           `json:"message"`
	State       MaintenanceState `json:"state"`
	Components  []string         `json:"components"`
	StartsAt    time.Time        `json:"starts_at"`
	EndsAt      time.Time        `json:"ends_at"`
	Remind24h   bool             `json:"remind_24h"`
	Remind1h    bool             `json:"remind_1h"`
	StartedAt   *time.Time       `json:"started_at"`
	CompletedAt *time.Time       `json:"completed_at"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}
