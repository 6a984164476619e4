package page

import (
	"encoding/json"
	"sort"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// The types below mirror Atlassian Statuspage's public v2 API field for
// field (names, nesting, nulls), so that widgets and tools written for
// Statuspage work unchanged.

type spPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type spComponent struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          string   `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"`
}

type spAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type spUpdate struct {
	ID                   string       `json:"id"`
	Status               string       `json:"status"`
	Body                 string       `json:"body"`
	IncidentID           string       `json:"incident_id"`
	CreatedAt            string       `json:"created_at"`
	UpdatedAt            string       `json:"updated_at"`
	DisplayAt            string       `json:"display_at"`
	AffectedComponents   []spAffected `json:"affected_components"`
	DeliverNotifications bool         `json:"deliver_notifications"`
	CustomTweet          *string      `json:"custom_tweet"`
	TweetID              *string      `json:"tweet_id"`
}

type spIncident struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	MonitoringAt    *string       `json:"monitoring_at"`
	ResolvedAt      *string       `json:"resolved_at"`
	Impact          string        `json:"impact"`
	Shortlink       string        `json:"shortlink"`
	StartedAt       string        `json:"started_at"`
	PageID          string        `json:"page_id"`
	IncidentUpdates []spUpdate    `json:"incident_updates"`
	Components      []spComponent `json:"components"`
	// Maintenance only.
	ScheduledFor   *string `json:"scheduled_for,omitempty"`
	ScheduledUntil *string `json:"scheduled_until,omitempty"`
}

type spStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

// statuspage builds the v2 documents of one snapshot.
type statuspage struct {
	snap  *sw.Snapshot
	site  Site
	comps map[string]*sw.Component
}

func newStatuspage(snap *sw.Snapshot, site Site) *statuspage {
	sp := &statuspage{snap: snap, site: site, comps: map[string]*sw.Component{}}
	for i := range snap.Components {
		sp.comps[snap.Components[i].ID] = &snap.Components[i]
	}
	return sp
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (sp *statuspage) page() spPage {
	return spPage{ID: sp.snap.Workspace.ID, Name: sp.snap.Workspace.PageName(), URL: sp.site.RootURL,
		TimeZone: sp.snap.Workspace.Timezone, UpdatedAt: ts(lastChange(sp.snap))}
}

// lastChange is the newest update time of anything on the page.
func lastChange(snap *sw.Snapshot) time.Time {
	t := snap.Workspace.UpdatedAt
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	for _, g := range snap.Groups {
		later(g.UpdatedAt)
	}
	for _, c := range snap.Components {
		later(c.UpdatedAt)
	}
	for _, i := range snap.Incidents {
		later(i.UpdatedAt)
	}
	for _, m := range snap.Maintenances {
		later(m.UpdatedAt)
	}
	return t
}

func (sp *statuspage) component(c *sw.Component) spComponent {
	return spComponent{ID: c.ID, Name: c.Name, Status: string(c.Status), CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
		Position: c.Position, Description: strPtr(c.Description), Showcase: true, GroupID: strPtr(c.GroupID),
		PageID: sp.snap.Workspace.ID}
}

// components lists groups and components in page order: a group entry
// (group: true, with its children's ids) precedes its children.
func (sp *statuspage) components() []spComponent {
	out := []spComponent{}
	for _, item := range layout(sp.snap) {
		if item.group == nil {
			out = append(out, sp.component(item.component))
			continue
		}
		g := item.group
		entry := spComponent{ID: g.ID, Name: g.Name, Status: string(item.status), CreatedAt: ts(g.CreatedAt), UpdatedAt: ts(g.UpdatedAt),
			Position: g.Position, Description: strPtr(g.Description), PageID: sp.snap.Workspace.ID, Group: true, Components: []string{}}
		for _, c := range item.children {
			entry.Components = append(entry.Components, c.ID)
		}
		out = append(out, entry)
		for _, c := range item.children {
			out = append(out, sp.component(c))
		}
	}
	return out
}

func (sp *statuspage) incident(inc *sw.Incident) spIncident {
	out := spIncident{ID: inc.ID, Name: inc.Title, Status: string(inc.Status), CreatedAt: ts(inc.CreatedAt),
		UpdatedAt: ts(inc.UpdatedAt), ResolvedAt: tsPtr(inc.ResolvedAt), Impact: string(inc.Impact),
		Shortlink: sp.site.RootURL + "/incidents/" + inc.ID, StartedAt: ts(inc.CreatedAt), PageID: sp.snap.Workspace.ID,
		IncidentUpdates: []spUpdate{}, Components: []spComponent{}}
	for _, u := range inc.Updates {
		if u.Status == sw.Monitoring && (out.MonitoringAt == nil || ts(u.CreatedAt) < *out.MonitoringAt) {
			out.MonitoringAt = tsPtr(&u.CreatedAt)
		}
		out.IncidentUpdates = append(out.IncidentUpdates, spUpdate{ID: u.ID, Status: string(u.Status), Body: u.Message,
			IncidentID: inc.ID, CreatedAt: ts(u.CreatedAt), UpdatedAt: ts(u.CreatedAt), DisplayAt: ts(u.CreatedAt),
			DeliverNotifications: true})
	}
	for _, ic := range inc.Components {
		if c, ok := sp.comps[ic.ComponentID]; ok {
			out.Components = append(out.Components, sp.component(c))
		}
	}
	return out
}

// maintenanceStatus maps our states onto Statuspage's.
var maintenanceStatus = map[sw.MaintenanceState]string{
	sw.MaintenanceScheduled: "scheduled", sw.MaintenanceInProgress: "in_progress", sw.MaintenanceCompleted: "completed",
}

func (sp *statuspage) maintenance(m *sw.Maintenance) spIncident {
	out := spIncident{ID: m.ID, Name: m.Title, Status: maintenanceStatus[m.State], CreatedAt: ts(m.CreatedAt),
		UpdatedAt: ts(m.UpdatedAt), ResolvedAt: tsPtr(m.CompletedAt), Impact: "maintenance",
		Shortlink: sp.site.RootURL + "/maintenance/" + m.ID, StartedAt: ts(m.StartsAt), PageID: sp.snap.Workspace.ID,
		IncidentUpdates: []spUpdate{}, Components: []spComponent{}, ScheduledFor: tsPtr(&m.StartsAt), ScheduledUntil: tsPtr(&m.EndsAt)}
	if m.Message != "" {
		out.IncidentUpdates = append(out.IncidentUpdates, spUpdate{ID: m.ID + "_u", Status: out.Status, Body: m.Message,
			IncidentID: m.ID, CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt), DisplayAt: ts(m.CreatedAt), DeliverNotifications: true})
	}
	bySlug := map[string]*sw.Component{}
	for _, c := range sp.comps {
		bySlug[c.Slug] = c
	}
	for _, slug := range m.Components {
		if c, ok := bySlug[slug]; ok {
			out.Components = append(out.Components, sp.component(c))
		}
	}
	return out
}

func (sp *statuspage) status() spStatus {
	o := Overall(sp.snap)
	return spStatus{Indicator: string(o.Indicator), Description: o.Description}
}

func (sp *statuspage) incidents(keep func(*sw.Incident) bool) []spIncident {
	out := []spIncident{}
	for i := range sp.snap.Incidents {
		if keep(&sp.snap.Incidents[i]) && len(out) < 50 {
			out = append(out, sp.incident(&sp.snap.Incidents[i]))
		}
	}
	return out
}

// maintenances lists windows newest start first, as Statuspage does.
func (sp *statuspage) maintenances(keep func(*sw.Maintenance) bool) []spIncident {
	ms := make([]*sw.Maintenance, 0, len(sp.snap.Maintenances))
	for i := range sp.snap.Maintenances {
		if keep(&sp.snap.Maintenances[i]) {
			ms = append(ms, &sp.snap.Maintenances[i])
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].StartsAt.After(ms[j].StartsAt) })
	out := []spIncident{}
	for _, m := range ms {
		if len(out) < 50 {
			out = append(out, sp.maintenance(m))
		}
	}
	return out
}

func unresolved(i *sw.Incident) bool { return i.Status != sw.Resolved }
func anyIncident(*sw.Incident) bool  { return true }

func upcoming(m *sw.Maintenance) bool   { return m.State == sw.MaintenanceScheduled }
func active(m *sw.Maintenance) bool     { return m.State == sw.MaintenanceInProgress }
func anyWindow(*sw.Maintenance) bool    { return true }
func openWindow(m *sw.Maintenance) bool { return m.State != sw.MaintenanceCompleted }

// renderJSON renders the v2 document at path, or reports false.
func renderJSON(snap *sw.Snapshot, site Site, path string) ([]byte, bool, error) {
	if path == "/api/v2/uptime.json" {
		body, err := renderUptimeJSON(snap, site)
		return body, true, err
	}
	sp := newStatuspage(snap, site)
	var doc any
	switch path {
	case "/api/v2/summary.json":
		doc = struct {
			Page                  spPage        `json:"page"`
			Components            []spComponent `json:"components"`
			Incidents             []spIncident  `json:"incidents"`
			ScheduledMaintenances []spIncident  `json:"scheduled_maintenances"`
			Status                spStatus      `json:"status"`
		}{sp.page(), sp.components(), sp.incidents(unresolved), sp.maintenances(openWindow), sp.status()}
	case "/api/v2/status.json":
		doc = struct {
			Page   spPage   `json:"page"`
			Status spStatus `json:"status"`
		}{sp.page(), sp.status()}
	case "/api/v2/components.json":
		doc = struct {
			Page       spPage        `json:"page"`
			Components []spComponent `json:"components"`
		}{sp.page(), sp.components()}
	case "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json":
		keep := anyIncident
		if path == "/api/v2/incidents/unresolved.json" {
			keep = unresolved
		}
		doc = struct {
			Page      spPage       `json:"page"`
			Incidents []spIncident `json:"incidents"`
		}{sp.page(), sp.incidents(keep)}
	case "/api/v2/scheduled-maintenances.json", "/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json":
		keep := map[string]func(*sw.Maintenance) bool{
			"/api/v2/scheduled-maintenances.json":          anyWindow,
			"/api/v2/scheduled-maintenances/upcoming.json": upcoming,
			"/api/v2/scheduled-maintenances/active.json":   active,
		}[path]
		doc = struct {
			Page                  spPage       `json:"page"`
			ScheduledMaintenances []spIncident `json:"scheduled_maintenances"`
		}{sp.page(), sp.maintenances(keep)}
	default:
		return nil, false, nil
	}
	body, err := json.Marshal(doc)
	return body, true, err
}
