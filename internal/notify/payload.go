package notify

import (
	"encoding/json"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// The stormwatch webhook body: CONTRACT.md's fields first, in its order,
// then the ones a receiver is likely to want next.

type payloadWorkspace struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type payloadIncident struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Severity   string   `json:"severity"`
	Status     string   `json:"status"`
	Components []string `json:"components"`
	CreatedAt  string   `json:"created_at"`
	// Beyond the contract.
	Impact     string  `json:"impact"`
	UpdatedAt  string  `json:"updated_at"`
	ResolvedAt *string `json:"resolved_at"`
	Message    string  `json:"message"`
	URL        string  `json:"url"`
}

type payloadMaintenance struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Status     string   `json:"status"`
	Components []string `json:"components"`
	StartsAt   string   `json:"starts_at"`
	EndsAt     string   `json:"ends_at"`
	Message    string   `json:"message"`
	URL        string   `json:"url"`
}

type payload struct {
	Event       string              `json:"event"`
	Incident    *payloadIncident    `json:"incident,omitempty"`
	Maintenance *payloadMaintenance `json:"maintenance,omitempty"`
	Reminder    string              `json:"reminder,omitempty"`
	EventID     string              `json:"event_id"`
	OccurredAt  string              `json:"occurred_at"`
	Workspace   payloadWorkspace    `json:"workspace"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// LatestMessage is the text of an incident's newest update.
func LatestMessage(inc *sw.Incident) string { return LatestMessageIn(inc, "") }

// LatestMessageIn is LatestMessage in language lang, when the update has
// a translation.
func LatestMessageIn(inc *sw.Incident, lang string) string {
	if len(inc.Updates) == 0 {
		return ""
	}
	newest := inc.Updates[0]
	for _, u := range inc.Updates[1:] {
		if u.CreatedAt.After(newest.CreatedAt) {
			newest = u
		}
	}
	return newest.MessageTranslations.In(lang, newest.Message)
}

// WebhookBody renders ev in stormwatch's webhook format; root is the
// workspace's page root for links.
func WebhookBody(ev *sw.NotificationEvent, ws *sw.Workspace, root string) ([]byte, error) {
	p := payload{Event: ev.Kind, Reminder: ev.Reminder, EventID: ev.ID, OccurredAt: rfc3339(ev.At),
		Workspace: payloadWorkspace{ID: ws.ID, Slug: ws.Slug, Name: ws.Name}}
	if inc := ev.Incident; inc != nil {
		p.Incident = &payloadIncident{ID: inc.ID, Title: inc.Title, Severity: string(inc.Severity), Status: string(inc.Status),
			Components: inc.Slugs(), CreatedAt: rfc3339(inc.CreatedAt), Impact: string(inc.Impact), UpdatedAt: rfc3339(inc.UpdatedAt),
			Message: LatestMessage(inc), URL: root + "/incidents/" + inc.ID}
		if inc.ResolvedAt != nil {
			s := rfc3339(*inc.ResolvedAt)
			p.Incident.ResolvedAt = &s
		}
	}
	if m := ev.Maintenance; m != nil {
		comps := m.Components
		if comps == nil {
			comps = []string{}
		}
		p.Maintenance = &payloadMaintenance{ID: m.ID, Title: m.Title, Status: string(m.State), Components: comps,
			StartsAt: rfc3339(m.StartsAt), EndsAt: rfc3339(m.EndsAt), Message: m.Message, URL: root + "/maintenance/" + m.ID}
	}
	return json.Marshal(p)
}
