package stormwatch

import (
	"github.com/stormwatch/stormwatch/internal/locale"
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
	// TitleTranslations and MessageTranslations are the texts in other
	// languages, for the automatic incidents of rules naming the template.
	TitleTranslations   Translations `json:"title_translations,omitempty"`
	MessageTranslations Translations `json:"message_translations,omitempty"`
	CreatedAt           time.Time    `json:"created_at"`
	UpdatedAt           time.Time    `json:"updated_at"`
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
	for field, tr := range map[string]Translations{"title_translations": t.TitleTranslations, "message_translations": t.MessageTranslations} {
		limit := MaxTitleLen
		if field == "message_translations" {
			limit = MaxMessageLen
		}
		for lang, text := range tr {
			if lang == "" || !locale.Valid(lang) {
				return Invalid(field, "%q is not a language of the page: %s", lang, locale.Codes())
			}
			if err := CheckText(field+"."+lang, text, limit, true); err != nil {
				return err
			}
		}
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
