package page

import (
	"encoding/json"
	"sort"

	sw "github.com/stormwatch/stormwatch"
)

// The types below mirror the body of Atlassian Statuspage's incident
// webhooks field for field, so that receivers written for Statuspage
// accept stormwatch's unchanged.

type spWebhookMeta struct {
	Unsubscribe   string `json:"unsubscribe"`
	Documentation string `json:"documentation"`
}

type spWebhookPage struct {
	ID                string `json:"id"`
	StatusIndicator   string `json:"status_indicator"`
	StatusDescription string `json:"status_description"`
}

type spWebhookUpdate struct {
	Body               string  `json:"body"`
	CreatedAt          string  `json:"created_at"`
	DisplayAt          string  `json:"display_at"`
	Status             string  `json:"status"`
	TwitterUpdatedAt   *string `json:"twitter_updated_at"`
	UpdatedAt          string  `json:"updated_at"`
	WantsTwitterUpdate bool    `json:"wants_twitter_update"`
	ID                 string  `json:"id"`
	IncidentID         string  `json:"incident_id"`
}

type spWebhookIncident struct {
	Backfilled                   bool              `json:"backfilled"`
	CreatedAt                    string            `json:"created_at"`
	Impact                       string            `json:"impact"`
	ImpactOverride               *string           `json:"impact_override"`
	MonitoringAt                 *string           `json:"monitoring_at"`
	PostmortemBody               *string           `json:"postmortem_body"`
	PostmortemBodyLastUpdatedAt  *string           `json:"postmortem_body_last_updated_at"`
	PostmortemIgnored            bool              `json:"postmortem_ignored"`
	PostmortemNotifiedSubscribes bool              `json:"postmortem_notified_subscribers"`
	PostmortemNotifiedTwitter    bool              `json:"postmortem_notified_twitter"`
	PostmortemPublishedAt        *string           `json:"postmortem_published_at"`
	ResolvedAt                   *string           `json:"resolved_at"`
	ScheduledAutoTransition      bool              `json:"scheduled_auto_transition"`
	ScheduledFor                 *string           `json:"scheduled_for"`
	ScheduledRemindPrior         bool              `json:"scheduled_remind_prior"`
	ScheduledRemindedAt          *string           `json:"scheduled_reminded_at"`
	ScheduledUntil               *string           `json:"scheduled_until"`
	Shortlink                    string            `json:"shortlink"`
	Status                       string            `json:"status"`
	UpdatedAt                    string            `json:"updated_at"`
	ID                           string            `json:"id"`
	OrganizationID               string            `json:"organization_id"`
	IncidentUpdates              []spWebhookUpdate `json:"incident_updates"`
	Name                         string            `json:"name"`
}

type spWebhook struct {
	Meta     spWebhookMeta     `json:"meta"`
	Page     spWebhookPage     `json:"page"`
	Incident spWebhookIncident `json:"incident"`
}

// StatuspageWebhook renders ev (an incident or maintenance event) as
// Statuspage's incident webhook would carry it: the page's status from
// snap (now), the incident or window as the event recorded it, newest
// update first. unsubscribe is the subscriber's unsubscribe link.
func StatuspageWebhook(snap *sw.Snapshot, site Site, ev *sw.NotificationEvent, unsubscribe string) ([]byte, error) {
	sp := newStatuspage(snap, site)
	st := sp.status()
	var src spIncident
	switch {
	case ev.Incident != nil:
		src = sp.incident(ev.Incident)
	case ev.Maintenance != nil:
		src = sp.maintenance(ev.Maintenance)
	default:
		return nil, ErrNotFound
	}
	out := spWebhook{
		Meta: spWebhookMeta{Unsubscribe: unsubscribe, Documentation: site.RootURL + "/"},
		Page: spWebhookPage{ID: snap.Workspace.ID, StatusIndicator: st.Indicator, StatusDescription: st.Description},
		Incident: spWebhookIncident{CreatedAt: src.CreatedAt, Impact: src.Impact, MonitoringAt: src.MonitoringAt,
			ResolvedAt: src.ResolvedAt, ScheduledFor: src.ScheduledFor, ScheduledUntil: src.ScheduledUntil,
			ScheduledRemindPrior:    ev.Maintenance != nil && (ev.Maintenance.Remind1h || ev.Maintenance.Remind24h),
			ScheduledAutoTransition: ev.Maintenance != nil, Shortlink: src.Shortlink, Status: src.Status, UpdatedAt: src.UpdatedAt,
			ID: src.ID, OrganizationID: snap.Workspace.ID, IncidentUpdates: []spWebhookUpdate{}, Name: src.Name},
	}
	for _, u := range src.IncidentUpdates {
		out.Incident.IncidentUpdates = append(out.Incident.IncidentUpdates, spWebhookUpdate{Body: u.Body, CreatedAt: u.CreatedAt,
			DisplayAt: u.DisplayAt, Status: u.Status, UpdatedAt: u.UpdatedAt, ID: u.ID, IncidentID: u.IncidentID})
	}
	sort.SliceStable(out.Incident.IncidentUpdates, func(i, j int) bool {
		return out.Incident.IncidentUpdates[i].CreatedAt > out.Incident.IncidentUpdates[j].CreatedAt
	})
	return json.Marshal(out)
}
