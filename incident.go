package stormwatch

import "time"

// Incident is what the public sees of a problem: a title, a status, an
// impact, the components it affects and a timeline of updates.
type Incident struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	Title       string `json:"title"`
	// TitleTranslations are the title in other languages, for automatic
	// incidents (the rules' texts per language).
	TitleTranslations Translations   `json:"title_translations,omitempty"`
	Status            IncidentStatus `json:"status"`
	Impact            Impact         `json:"impact"`
	Severity          Severity       `json:"severity"`
	Source            Source         `json:"source"`
	Pinned            bool           `json:"pinned"`
	// Visibility is public, or draft (made by automation, waiting for an
	// operator to publish it) or observed (what automation would have
	// published; never shown).
	Visibility string              `json:"visibility"`
	Components []IncidentComponent `json:"components"`
	Updates    []IncidentUpdate    `json:"updates"`
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
	ResolvedAt *time.Time          `json:"resolved_at"`
	// Postmortem is what happened, in Markdown, written after the
	// incident; the page shows it once published.
	Postmortem *Postmortem `json:"postmortem,omitempty"`
}

// Postmortem is an incident's write-up.
type Postmortem struct {
	Markdown    string     `json:"markdown"`
	PublishedAt *time.Time `json:"published_at"`
}

// MaxPostmortemLen bounds a post-mortem's Markdown.
const MaxPostmortemLen = 100000

// Incident visibilities.
const (
	VisibilityPublic   = "public"
	VisibilityDraft    = "draft"
	VisibilityObserved = "observed"
)

// IncidentComponent is a component affected by an incident, with the status
// the incident gave it.
type IncidentComponent struct {
	ComponentID string          `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Status      ComponentStatus `json:"status"`
}

// IncidentUpdate is one entry of an incident's public timeline.
type IncidentUpdate struct {
	ID      string         `json:"id"`
	Status  IncidentStatus `json:"status"`
	Message string         `json:"message"`
	// MessageTranslations are the message in other languages.
	MessageTranslations Translations `json:"message_translations,omitempty"`
	CreatedAt           time.Time    `json:"created_at"`
}

// Translations are a public text in other languages, by language code.
type Translations map[string]string

// In returns the text in language lang, or text when there is no
// translation.
func (t Translations) In(lang, text string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return text
}

// Slugs returns the slugs of the incident's components, in order.
func (i *Incident) Slugs() []string {
	out := make([]string, len(i.Components))
	for n, c := range i.Components {
		out[n] = c.Slug
	}
	return out
}
