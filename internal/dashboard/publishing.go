package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
)

// maxRulesLen bounds a rule text, as the API does.
const maxRulesLen = 256 << 10

type ruleLine struct {
	No   int
	Text string
	Errs []*rules.Error
}

type rulesData struct {
	Text      string
	Default   bool
	UpdatedAt *time.Time
	Errors    rules.ErrorList
	Lines     []ruleLine
	Rules     int
	Sample    map[string]string
	Decision  *rules.Decision
	Explained string
	Checked   bool
}

// Precedence is how rules combine, in the same words as `rules check`
// and the README.
func (rulesData) Precedence() string { return rules.Precedence }

// sampleDefaults fill the dry run's form the first time.
var sampleDefaults = map[string]string{"attack": "udp_flood", "severity": "high", "pps": "2000000", "bps": "8000000000", "duration": "2m"}

func (d *Dashboard) rules(r *http.Request, c *reqCtx) (any, error) {
	rd := &rulesData{Sample: sampleDefaults}
	text, at, ok, err := d.Store.RuleText(r.Context(), c.ws.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		rd.Text, rd.UpdatedAt = text, &at
	} else {
		rd.Text, rd.Default = rules.DefaultText, true
	}
	if c.form != nil {
		// A refused save or a dry run shows the text as it was posted.
		rd.Text = c.form.Get("rules")
		rd.Sample = map[string]string{}
		for _, k := range []string{"attack", "severity", "pps", "bps", "duration", "component", "node", "maintenance"} {
			rd.Sample[k] = c.form.Get(k)
		}
	}
	set, err := rules.Parse(rd.Text)
	if errors.As(err, &rd.Errors) {
		rd.Lines = numberLines(rd.Text, rd.Errors)
	} else if err == nil {
		rd.Rules = len(set.Rules)
	}
	if c.form != nil && c.form.Has("dry_run") && set != nil && len(rd.Errors) == 0 {
		f, err := sampleFacts(rd.Sample)
		if err != nil {
			return nil, err
		}
		dec := rules.Evaluate(set, f)
		rd.Decision, rd.Explained, rd.Checked = &dec, rules.Explain(dec), true
	}
	return rd, nil
}

// numberLines pairs each line of text with the errors found on it.
func numberLines(text string, errs rules.ErrorList) []ruleLine {
	lines := strings.Split(text, "\n")
	out := make([]ruleLine, len(lines))
	for i, l := range lines {
		out[i] = ruleLine{No: i + 1, Text: strings.TrimRight(l, "\r")}
	}
	for _, e := range errs {
		if e.Line >= 1 && e.Line <= len(out) {
			out[e.Line-1].Errs = append(out[e.Line-1].Errs, e)
		}
	}
	return out
}

// sampleFacts reads the dry run's sample attack.
func sampleFacts(s map[string]string) (rules.Facts, error) {
	f := rules.Facts{Severity: sw.Severity(s["severity"]), Classification: strings.TrimSpace(s["attack"]),
		Component: strings.TrimSpace(s["component"]), Node: strings.TrimSpace(s["node"]), DuringMaintenance: s["maintenance"] != ""}
	if !f.Severity.Valid() {
		return f, sw.Invalid("severity", "must be one of low, medium, high, critical")
	}
	var err error
	if f.PPS, err = parseRate("pps", s["pps"]); err != nil {
		return f, err
	}
	if f.BPS, err = parseRate("bps", s["bps"]); err != nil {
		return f, err
	}
	if v := strings.TrimSpace(s["duration"]); v != "" {
		if f.Duration, err = time.ParseDuration(v); err != nil || f.Duration < 0 {
			return f, sw.Invalid("duration", "must be a duration such as 90s or 5m")
		}
	}
	if f.Classification != "" {
		f.Vectors = []string{f.Classification}
	}
	return f, nil
}

func parseRate(field, v string) (uint64, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "_", ""))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, sw.Invalid(field, "must be a whole number, like 2000000")
	}
	return n, nil
}

// saveRules replaces the rules; an invalid text is refused whole and the
// old rules stay.
func (d *Dashboard) saveRules(r *http.Request, c *reqCtx) (string, error) {
	text := strings.ReplaceAll(r.PostFormValue("rules"), "\r\n", "\n")
	r.PostForm.Set("rules", text)
	if len(text) > maxRulesLen {
		return "", sw.Invalid("rules", "at most 256 KiB of rules")
	}
	if _, err := rules.Parse(text); err != nil {
		var list rules.ErrorList
		if errors.As(err, &list) {
			return "", refuse("The rules were not saved: " + strconv.Itoa(len(list)) + " problem(s), marked below. The rules in force are unchanged.")
		}
		return "", err
	}
	err := d.audited(r, c, "rules.update", "rules", func(tx *store.Tx) (string, any, error) {
		return c.ws.ID, map[string]string{"rules": text}, tx.SetRuleText(r.Context(), c.ws.ID, text)
	})
	c.flash = "Rules saved; they apply to the next attack event."
	return "/rules", err
}

// checkRules is the dry run: the posted text, unsaved, against the
// sample attack. It is shown like a refused form, with the input kept.
func (d *Dashboard) checkRules(r *http.Request, c *reqCtx) (string, error) {
	r.PostForm.Set("dry_run", "1")
	r.PostForm.Set("rules", strings.ReplaceAll(r.PostFormValue("rules"), "\r\n", "\n"))
	if len(r.PostFormValue("rules")) > maxRulesLen {
		return "", sw.Invalid("rules", "at most 256 KiB of rules")
	}
	c.form = r.PostForm
	c.shown = &shown{} // render, do not redirect
	return "", nil
}

type incidentsData struct {
	Filter     string
	Incidents  []sw.Incident
	More       bool
	Components []sw.Component
	Templates  []sw.IncidentTemplate
}

func (d *Dashboard) incidents(r *http.Request, c *reqCtx) (any, error) {
	id := &incidentsData{Filter: r.URL.Query().Get("show")}
	var f store.IncidentFilter
	switch id.Filter {
	case "resolved":
		f.Resolved = true
	case "all":
	default:
		id.Filter, f.Unresolved = "open", true
	}
	var err error
	if id.Incidents, id.More, err = d.Store.Incidents(r.Context(), c.ws.ID, f, store.Page{Limit: 100}); err != nil {
		return nil, err
	}
	if id.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	if id.Templates, err = all(r.Context(), c.ws.ID, d.Store.IncidentTemplates); err != nil {
		return nil, err
	}
	return id, nil
}

// componentChanges reads the per-component status selects ("comp.<slug>"
// = a status, or "" for unchanged).
func componentChanges(r *http.Request) []store.ComponentChange {
	var out []store.ComponentChange
	for k, v := range r.PostForm {
		slug, ok := strings.CutPrefix(k, "comp.")
		if ok && len(v) > 0 && v[0] != "" {
			out = append(out, store.ComponentChange{Ref: slug, Status: sw.ComponentStatus(v[0])})
		}
	}
	return out
}

func (d *Dashboard) createIncident(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	inc := &sw.Incident{WorkspaceID: c.ws.ID, Source: sw.SourceManual, Title: strings.TrimSpace(f.Get("title")),
		Status: sw.IncidentStatus(f.Get("status")), Impact: sw.Impact(f.Get("impact")), Pinned: f.Get("pinned") != ""}
	if f.Get("draft") != "" {
		inc.Visibility = sw.VisibilityDraft
	}
	changes := componentChanges(r)
	message := f.Get("message")
	if name := f.Get("template"); name != "" {
		// One step from a template: it fills what the form leaves empty.
		t, err := d.Store.IncidentTemplate(r.Context(), c.ws.ID, name)
		if err != nil {
			return "/incidents", sw.Invalid("template", "no incident template %q in this workspace", name)
		}
		if inc.Title == "" {
			inc.Title, inc.Impact = t.Title, t.Impact
		}
		if message == "" {
			message = t.Message
		}
		if len(changes) == 0 {
			for slug, status := range t.Components {
				changes = append(changes, store.ComponentChange{Ref: slug, Status: status})
			}
		}
	}
	err := d.audited(r, c, "incident.create", "incident", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateIncident(r.Context(), inc, changes, message, nil)
		return inc.ID, map[string]any{"title": inc.Title, "status": inc.Status, "impact": inc.Impact}, err
	})
	if err == nil && inc.Visibility == sw.VisibilityDraft {
		c.flash = "Draft saved; publish it when ready."
	} else {
		c.flash = "Incident published; subscribers are being notified."
	}
	return "/incidents/" + inc.ID, err
}

type incidentData struct {
	Incident   *sw.Incident
	Attacks    []sw.Attack
	Trail      []sw.AuditEntry
	Components []sw.Component
}

// Affects returns the status the incident gives component slug ("" if
// none).
func (id *incidentData) Affects(slug string) string {
	for _, ic := range id.Incident.Components {
		if ic.Slug == slug {
			return string(ic.Status)
		}
	}
	return ""
}

func (d *Dashboard) incident(r *http.Request, c *reqCtx) (any, error) {
	inc, err := d.Store.Incident(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	id := &incidentData{Incident: inc}
	if id.Attacks, err = d.Store.IncidentAttacks(r.Context(), c.ws.ID, inc.ID); err != nil {
		return nil, err
	}
	if id.Trail, err = d.Store.AuditOf(r.Context(), c.ws.ID, "incident", inc.ID); err != nil {
		return nil, err
	}
	if id.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	return id, nil
}

func (d *Dashboard) editIncidentWith(r *http.Request, c *reqCtx, action string, e store.IncidentEdit, details any) error {
	return d.audited(r, c, action, "incident", func(tx *store.Tx) (string, any, error) {
		_, err := tx.EditIncident(r.Context(), c.ws.ID, r.PathValue("id"), e)
		return r.PathValue("id"), details, err
	})
}

// postIncidentUpdate adds an entry to the timeline (status, message,
// component statuses); resolving is an update with status resolved.
func (d *Dashboard) postIncidentUpdate(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	status := sw.IncidentStatus(f.Get("status"))
	msg := f.Get("message")
	e := store.IncidentEdit{Message: &msg, Changes: componentChanges(r)}
	if status != "" {
		e.Status = &status
	}
	action := "incident.post_update"
	if status == sw.Resolved {
		action = "incident.resolve"
	}
	err := d.editIncidentWith(r, c, action, e, map[string]any{"status": status, "message": msg})
	c.flash = "Update posted."
	return "/incidents/" + r.PathValue("id"), err
}

// editIncident changes the title, impact or pin, or publishes a draft.
func (d *Dashboard) editIncident(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	var e store.IncidentEdit
	if f.Has("title") {
		title := strings.TrimSpace(f.Get("title"))
		e.Title = &title
	}
	if f.Has("impact") {
		impact := sw.Impact(f.Get("impact"))
		e.Impact = &impact
	}
	if f.Has("pin") {
		pinned := f.Get("pin") == "1"
		e.Pinned = &pinned
	}
	if f.Get("publish") != "" {
		public := sw.VisibilityPublic
		e.Visibility = &public
	}
	err := d.editIncidentWith(r, c, "incident.update", e, f)
	c.flash = "Incident saved."
	return "/incidents/" + r.PathValue("id"), err
}

type maintenancesData struct {
	Windows    []sw.Maintenance
	Components []sw.Component
	Zone       string
}

func (d *Dashboard) maintenances(r *http.Request, c *reqCtx) (any, error) {
	md := &maintenancesData{Zone: c.ws.Timezone}
	var err error
	if md.Windows, _, err = d.Store.Maintenances(r.Context(), c.ws.ID, store.Page{Limit: 100}); err != nil {
		return nil, err
	}
	if md.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	return md, nil
}

// localTimeLayout is what <input type="datetime-local"> posts.
const localTimeLayout = "2006-01-02T15:04"

// readWindow fills a maintenance window from the form; times are in the
// workspace's time zone.
func readWindow(r *http.Request, ws *sw.Workspace, m *sw.Maintenance) error {
	f := r.PostForm
	loc, err := time.LoadLocation(ws.Timezone)
	if err != nil {
		loc = time.UTC
	}
	m.Title = strings.TrimSpace(f.Get("title"))
	m.Message = f.Get("message")
	m.Remind24h, m.Remind1h = f.Get("remind_24h") != "", f.Get("remind_1h") != ""
	for field, dst := range map[string]*time.Time{"starts_at": &m.StartsAt, "ends_at": &m.EndsAt} {
		t, err := time.ParseInLocation(localTimeLayout, f.Get(field), loc)
		if err != nil {
			return sw.Invalid(field, "must be a date and time like 2026-12-01T02:00 (%s)", ws.Timezone)
		}
		*dst = t.UTC()
	}
	return nil
}

func (d *Dashboard) createMaintenance(r *http.Request, c *reqCtx) (string, error) {
	m := &sw.Maintenance{WorkspaceID: c.ws.ID}
	if err := readWindow(r, c.ws, m); err != nil {
		return "", err
	}
	refs := r.PostForm["components"]
	if refs == nil {
		refs = []string{}
	}
	err := d.audited(r, c, "maintenance.create", "maintenance", func(tx *store.Tx) (string, any, error) {
		return m.ID, map[string]any{"title": m.Title, "starts_at": m.StartsAt, "ends_at": m.EndsAt, "components": refs},
			tx.CreateMaintenance(r.Context(), m, refs)
	})
	c.flash = "Maintenance scheduled; subscribers are told now and reminded as chosen."
	return "/maintenance/" + m.ID, err
}

type windowData struct {
	Window     *sw.Maintenance
	Components []sw.Component
	Starts     string
	Ends       string
	Zone       string
}

func (d *Dashboard) maintenance(r *http.Request, c *reqCtx) (any, error) {
	m, err := d.Store.Maintenance(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(c.ws.Timezone)
	if err != nil {
		loc = time.UTC
	}
	wd := &windowData{Window: m, Starts: m.StartsAt.In(loc).Format(localTimeLayout), Ends: m.EndsAt.In(loc).Format(localTimeLayout), Zone: c.ws.Timezone}
	if wd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	return wd, nil
}

func (d *Dashboard) updateMaintenance(r *http.Request, c *reqCtx) (string, error) {
	refs := r.PostForm["components"]
	if refs == nil {
		refs = []string{}
	}
	err := d.audited(r, c, "maintenance.update", "maintenance", func(tx *store.Tx) (string, any, error) {
		m, err := tx.Maintenance(r.Context(), c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		if err := readWindow(r, c.ws, m); err != nil {
			return "", nil, err
		}
		return m.ID, map[string]any{"title": m.Title, "starts_at": m.StartsAt, "ends_at": m.EndsAt, "components": refs},
			tx.UpdateMaintenance(r.Context(), m, refs)
	})
	c.flash = "Maintenance saved."
	return "/maintenance/" + r.PathValue("id"), err
}

// setMaintenanceState starts or completes a window now, by hand.
func (d *Dashboard) setMaintenanceState(r *http.Request, c *reqCtx) (string, error) {
	state := sw.MaintenanceState(r.PostFormValue("state"))
	if !state.Valid() {
		return "", sw.Invalid("state", "must be scheduled, in_progress or completed")
	}
	err := d.audited(r, c, "maintenance.update", "maintenance", func(tx *store.Tx) (string, any, error) {
		return r.PathValue("id"), map[string]any{"state": state}, tx.SetMaintenanceState(r.Context(), c.ws.ID, r.PathValue("id"), state)
	})
	c.flash = "Maintenance is now " + sw.StatusLabel(string(state)) + "."
	return "/maintenance/" + r.PathValue("id"), err
}
