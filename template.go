package stormwatch

import (
	"time"
)

// PrefixTemplate names incident template ids.
const PrefixTemplate = "tpl_"

// IncidentTemplate is a named incident written in advance: applied in one
// step by the API or the dashboard, or named by a rule for its automatic
// texts ({components}, {attack}, … are filled in).
type IncidentTemplate struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	Message     string `json:"message"`
	Impact      Impact `json:"impact"`
	// Components are the statuses the template gives components, by slug.
	Components map[string]ComponentStatus `json:"components"`
	CreatedAt  time.Time                  `json:"created_at"`
	UpdatedAt  time.Time                  `json:"updated_at"`
}

// Validate checks a template, naming the field at fault.
func (t *IncidentTemplate) Validate() error {
	if err := CheckText("name", t.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := CheckText("title", t.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := CheckText("message", t.Message, MaxMessageLen, false); err != nil {
		return err
	}
	if t.Impact == "" {
		t.Impact = ImpactNone
	}
	if !t.Impact.Valid() {
		return Invalid("impact", "must be one of none, minor, major, critical")
	}
	if t.Components == nil {
		t.Components = map[string]ComponentStatus{}
	}
	for slug, s := range t.Components {
		if !s.Valid() || s == UnderMaintenance {
			return Invalid("components."+slug, "must be operational, degraded_performance, partial_outage or major_outage")
		}
	}
	return nil
}
