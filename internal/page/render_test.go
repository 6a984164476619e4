package page

import (
	"bytes"
	"encoding/json"
	"github.com/stormwatch/stormwatch/internal/goldentest"
	"github.com/stormwatch/stormwatch/internal/locale"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	sw "github.com/stormwatch/stormwatch"
)

var now = time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return now.Add(d) }

// fixture builds a workspace with a group of two game clusters, an
// ungrouped website and a backup component, all a year old.
func fixture() *sw.Snapshot {
	created := now.AddDate(-1, 0, 0)
	w := sw.Workspace{ID: "ws_1", Slug: "acme", Name: "Acme Games", Timezone: "Europe/Berlin", Revision: 42,
		CreatedAt: created, UpdatedAt: created, Branding: sw.Branding{BrandColor: "#8250df",
			FooterLinks: []sw.FooterLink{{Label: "Support", URL: "https://acme.example/support"}}}}
	g := sw.Group{ID: "grp_1", Name: "US-East", Position: 1, CreatedAt: created, UpdatedAt: created}
	comp := func(id, slug, name, group string, pos int) sw.Component {
		return sw.Component{ID: id, Slug: slug, Name: name, GroupID: group, Position: pos, Status: sw.Operational, CreatedAt: created, UpdatedAt: created}
	}
	snap := &sw.Snapshot{Workspace: w, Groups: []sw.Group{g}, Components: []sw.Component{
		comp("cmp_web", "website", "Website", "", 0),
		comp("cmp_g1", "us-east-game-01", "US-East game 01", "grp_1", 0),
		comp("cmp_g2", "us-east-game-02", "US-East game 02", "grp_1", 1),
		comp("cmp_bak", "backup", "Backups", "", 2),
	}, History: map[string][]sw.StatusChange{}, Since: now.AddDate(0, 0, -90), Now: now}
	snap.Components[0].Description = "Shop & <accounts>"
	for _, c := range snap.Components {
		snap.History[c.ID] = []sw.StatusChange{{ComponentID: c.ID, Status: sw.Operational, At: created}}
	}
	return snap
}

func setStatus(snap *sw.Snapshot, id string, s sw.ComponentStatus, when time.Time) {
	for i := range snap.Components {
		if snap.Components[i].ID == id {
			snap.Components[i].Status = s
			snap.Components[i].UpdatedAt = when
		}
	}
	snap.History[id] = append(snap.History[id], sw.StatusChange{ComponentID: id, Status: s, At: when})
}

func states() map[string]*sw.Snapshot {
	out := map[string]*sw.Snapshot{}
	out["operational"] = fixture()

	auto := fixture()
	start := at(-40 * time.Minute)
	setStatus(auto, "cmp_g1", sw.PartialOutage, start)
	setStatus(auto, "cmp_g2", sw.DegradedPerformance, start)
	auto.Incidents = []sw.Incident{{ID: "inc_auto", Title: "DDoS attack detected on US-East cluster", Status: sw.Monitoring,
		Impact: sw.ImpactMajor, Severity: sw.SeverityHigh, Source: sw.SourceAuto, CreatedAt: start, UpdatedAt: at(-5 * time.Minute),
		Components: []sw.IncidentComponent{{ComponentID: "cmp_g1", Slug: "us-east-game-01", Name: "US-East game 01", Status: sw.PartialOutage},
			{ComponentID: "cmp_g2", Slug: "us-east-game-02", Name: "US-East game 02", Status: sw.DegradedPerformance}},
		Updates: []sw.IncidentUpdate{
			{ID: "upd_3", Status: sw.Monitoring, Message: "The attack is subsiding; traffic is close to normal.", CreatedAt: at(-5 * time.Minute)},
			{ID: "upd_2", Status: sw.Identified, Message: "Mitigation engaged: <script>alert(1)</script> filtered upstream.", CreatedAt: at(-38 * time.Minute)},
			{ID: "upd_1", Status: sw.Investigating, Message: "We detected a UDP flood and are investigating.", CreatedAt: start},
		}}}
	auto.Workspace.Revision = 57
	out["auto-incident"] = auto

	mnt := fixture()
	mStart := at(-30 * time.Minute)
	setStatus(mnt, "cmp_web", sw.UnderMaintenance, mStart)
	setStatus(mnt, "cmp_web", sw.MajorOutage, at(-10*time.Minute))
	mnt.Maintenances = []sw.Maintenance{
		{ID: "mnt_now", Title: "Database upgrade", Message: "Checkout may be slow.", State: sw.MaintenanceInProgress,
			Components: []string{"website"}, StartsAt: mStart, EndsAt: at(90 * time.Minute), StartedAt: &mStart, CreatedAt: at(-72 * time.Hour), UpdatedAt: mStart},
		{ID: "mnt_next", Title: "Router firmware", State: sw.MaintenanceScheduled, Components: []string{"us-east-game-01", "us-east-game-02"},
			StartsAt: at(48 * time.Hour), EndsAt: at(50 * time.Hour), Remind24h: true, CreatedAt: at(-24 * time.Hour), UpdatedAt: at(-24 * time.Hour)},
	}
	mnt.Incidents = []sw.Incident{{ID: "inc_mnt", Title: "Website unreachable", Status: sw.Investigating, Impact: sw.ImpactCritical,
		Severity: sw.SeverityCritical, Source: sw.SourceManual, CreatedAt: at(-10 * time.Minute), UpdatedAt: at(-10 * time.Minute),
		Components: []sw.IncidentComponent{{ComponentID: "cmp_web", Slug: "website", Name: "Website", Status: sw.MajorOutage}},
		Updates:    []sw.IncidentUpdate{{ID: "upd_m", Status: sw.Investigating, Message: "The website is down during the upgrade.", CreatedAt: at(-10 * time.Minute)}}}}
	out["maintenance-and-incident"] = mnt

	hist := fixture()
	for n, days := range []int{3, 17, 40, 75} {
		s := now.AddDate(0, 0, -days).Add(-2 * time.Hour)
		e := s.Add(time.Duration(n+1) * 45 * time.Minute)
		id := "cmp_g1"
		if n%2 == 1 {
			id = "cmp_web"
		}
		setStatus(hist, id, sw.MajorOutage, s)
		setStatus(hist, id, sw.Operational, e)
		hist.Incidents = append(hist.Incidents, sw.Incident{ID: "inc_h" + string(rune('a'+n)), Title: "Outage " + s.Format("Jan 2"),
			Status: sw.Resolved, Impact: sw.ImpactCritical, Severity: sw.SeverityCritical, Source: sw.SourceAuto,
			CreatedAt: s, UpdatedAt: e, ResolvedAt: &e,
			Components: []sw.IncidentComponent{{ComponentID: id, Slug: id, Name: id, Status: sw.MajorOutage}},
			Updates: []sw.IncidentUpdate{{ID: "upd_hr" + string(rune('a'+n)), Status: sw.Resolved, Message: "Resolved.", CreatedAt: e},
				{ID: "upd_hi" + string(rune('a'+n)), Status: sw.Investigating, Message: "Investigating.", CreatedAt: s}}})
	}
	for _, c := range hist.Components {
		sort.Slice(hist.History[c.ID], func(i, j int) bool { return hist.History[c.ID][i].At.Before(hist.History[c.ID][j].At) })
	}
	hist.Workspace.Branding.HideBadge = true
	out["history"] = hist

	// The website has an HTTP check since this morning that measured
	// three minutes down, published nowhere; one bucket had failures.
	checked := fixture()
	morning := time.Date(2026, 6, 7, 6, 0, 0, 0, time.UTC)
	down := at(-2 * time.Hour)
	up := down.Add(3 * time.Minute)
	checked.Measured = map[string]*sw.Measured{"cmp_web": {Since: morning, Down: []sw.Span{{Start: down, End: &up}}}}
	series := &sw.LatencySeries{Check: "website https", Type: sw.CheckHTTP}
	for b := at(-6 * time.Hour).Truncate(10 * time.Minute); b.Before(now); b = b.Add(10 * time.Minute) {
		p := sw.LatencyPoint{At: b, Runs: 20, LatencyMS: 40 + float64(b.Minute())}
		if b.Equal(down.Truncate(10 * time.Minute)) {
			p.Fails = 6
		}
		series.Points = append(series.Points, p)
	}
	checked.Latency = map[string]*sw.LatencySeries{"cmp_web": series}
	out["checked"] = checked
	return out
}

var site = Site{Prefix: "/s/acme", RootURL: "https://status.example.com/s/acme", Badge: true}

func TestGolden(t *testing.T) {
	files := []string{"/", "/history", "/feed.xml", "/feed.rss", "/api/v2/summary.json", "/api/v2/status.json",
		"/api/v2/components.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json",
		"/api/v2/scheduled-maintenances.json", "/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json", "/api/v2/uptime.json"}
	for name, snap := range states() {
		t.Run(name, func(t *testing.T) {
			paths := append([]string{}, files...)
			for _, inc := range snap.Incidents {
				paths = append(paths, "/incidents/"+inc.ID)
			}
			for _, m := range snap.Maintenances {
				paths = append(paths, "/maintenance/"+m.ID)
			}
			if snap.Latency != nil {
				paths = append(paths, "/components/website")
			}
			for _, p := range paths {
				res, err := Render(snap, site, p)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				body := res.Body
				if res.ContentType == TypeJSON {
					var pretty bytes.Buffer
					if err := json.Indent(&pretty, body, "", "  "); err != nil {
						t.Fatalf("%s: invalid JSON: %v", p, err)
					}
					body = pretty.Bytes()
				}
				file := strings.Trim(strings.ReplaceAll(p, "/", "_"), "_")
				if file == "" {
					file = "index.html"
				} else if !strings.Contains(file, ".") {
					file += ".html"
				}
				goldentest.Check(t, filepath.Join(name, file), body)
			}
		})
	}
}

func TestUnknownPaths(t *testing.T) {
	for _, p := range []string{"/nope", "/incidents/inc_missing", "/maintenance/x", "/api/v2/nope.json"} {
		if _, err := Render(fixture(), site, p); err != ErrNotFound {
			t.Errorf("%s: err = %v, want ErrNotFound", p, err)
		}
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	snap := states()["auto-incident"]
	snap.Incidents[0].Title = "<img src=x onerror=alert(1)> \u202eevil"
	res, err := Render(snap, site, "/")
	if err != nil {
		t.Fatal(err)
	}
	html := string(res.Body)
	if strings.Contains(html, "<img src=x") || strings.Contains(html, "<script>alert(1)") {
		t.Fatal("user text reached the HTML unescaped")
	}
	if !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt; \u202eevil") {
		t.Fatal("user text not shown intact (escaped)")
	}
	for _, p := range []string{"/feed.xml", "/feed.rss"} {
		res, err := Render(snap, site, p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(res.Body), "<script>") || strings.Contains(string(res.Body), "<img") {
			t.Fatalf("%s carries raw markup", p)
		}
	}
}

// TestFeedsParse reads the feeds with a real feed parser.
func TestFeedsParse(t *testing.T) {
	snap := states()["history"]
	for _, p := range []string{"/feed.xml", "/feed.rss"} {
		res, err := Render(snap, site, p)
		if err != nil {
			t.Fatal(err)
		}
		feed, err := gofeed.NewParser().ParseString(string(res.Body))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(feed.Items) != len(snap.Incidents) {
			t.Fatalf("%s: %d items, want %d", p, len(feed.Items), len(snap.Incidents))
		}
		ids := map[string]bool{}
		for _, it := range feed.Items {
			if ids[it.GUID] || it.GUID == "" {
				t.Errorf("%s: id %q missing or repeated", p, it.GUID)
			}
			ids[it.GUID] = true
			if !strings.HasPrefix(it.Link, "https://status.example.com/s/acme/incidents/inc_") {
				t.Errorf("%s: link %q is not absolute", p, it.Link)
			}
			if it.UpdatedParsed == nil && it.PublishedParsed == nil {
				t.Errorf("%s: item without a date", p)
			}
		}
		if feed.UpdatedParsed == nil && feed.PublishedParsed == nil {
			t.Errorf("%s: feed without a date", p)
		}
	}
}

// statuspageFields are the fields Statuspage's v2 API gives each object.
var statuspageFields = map[string][]string{
	"page":      {"id", "name", "url", "time_zone", "updated_at"},
	"status":    {"indicator", "description"},
	"component": {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date", "group_id", "page_id", "group", "only_show_if_degraded"},
	"incident":  {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink", "started_at", "page_id", "incident_updates", "components"},
	"update":    {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components", "deliver_notifications", "custom_tweet", "tweet_id"},
	"scheduled": {"scheduled_for", "scheduled_until"},
}

func hasFields(t *testing.T, what string, obj map[string]any, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		for _, f := range statuspageFields[k] {
			if _, ok := obj[f]; !ok {
				t.Errorf("%s lacks Statuspage field %q", what, f)
			}
		}
	}
}

func TestStatuspageFieldSet(t *testing.T) {
	enums := map[string][]string{
		"indicator":        {"none", "minor", "major", "critical", "maintenance"},
		"component_status": {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"},
		"incident_status":  {"investigating", "identified", "monitoring", "resolved", "postmortem"},
		"maint_status":     {"scheduled", "in_progress", "verifying", "completed"},
		"impact":           {"none", "minor", "major", "critical", "maintenance"},
	}
	in := func(set, v string) bool {
		for _, s := range enums[set] {
			if s == v {
				return true
			}
		}
		return false
	}
	for name, snap := range states() {
		res, err := Render(snap, site, "/api/v2/summary.json")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(res.Body, &doc); err != nil {
			t.Fatal(err)
		}
		hasFields(t, name+" page", doc["page"].(map[string]any), "page")
		st := doc["status"].(map[string]any)
		hasFields(t, name+" status", st, "status")
		if !in("indicator", st["indicator"].(string)) {
			t.Errorf("%s: indicator %v", name, st["indicator"])
		}
		for _, c := range doc["components"].([]any) {
			cm := c.(map[string]any)
			hasFields(t, name+" component", cm, "component")
			if !in("component_status", cm["status"].(string)) {
				t.Errorf("%s: component status %v", name, cm["status"])
			}
		}
		for _, i := range doc["incidents"].([]any) {
			im := i.(map[string]any)
			hasFields(t, name+" incident", im, "incident")
			if !in("incident_status", im["status"].(string)) || !in("impact", im["impact"].(string)) {
				t.Errorf("%s: incident status/impact %v/%v", name, im["status"], im["impact"])
			}
			for _, u := range im["incident_updates"].([]any) {
				hasFields(t, name+" update", u.(map[string]any), "update")
			}
		}
		for _, m := range doc["scheduled_maintenances"].([]any) {
			mm := m.(map[string]any)
			hasFields(t, name+" maintenance", mm, "incident", "scheduled")
			if !in("maint_status", mm["status"].(string)) || mm["impact"] != "maintenance" {
				t.Errorf("%s: maintenance status/impact %v/%v", name, mm["status"], mm["impact"])
			}
		}
	}
}

// TestBrandingTitleAsSet: a branding title is the page's title exactly as
// set, in the tab, the heading (beside a logo too) and the feeds; without
// one the page is "<name> status".
func TestBrandingTitleAsSet(t *testing.T) {
	for _, tc := range []struct {
		name, title, logo string
		tab, heading      string
	}{
		{"no title", "", "", "<title>Acme Games status</title>", ">Acme Games status</a></h1>"},
		{"title", "Acme Hosting Network Status", "", "<title>Acme Hosting Network Status</title>", ">Acme Hosting Network Status</a></h1>"},
		{"title and logo", "Acme Hosting Network Status", "/s/acme/assets/logo.png", "<title>Acme Hosting Network Status</title>", ">Acme Hosting Network Status</a></h1>"},
		{"logo only", "", "/s/acme/assets/logo.png", "<title>Acme Games status</title>", ">Acme Games status</a></h1>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := fixture()
			snap.Workspace.Branding.PageTitle, snap.Workspace.Branding.LogoURL = tc.title, tc.logo
			res, err := Render(snap, site, "/")
			if err != nil {
				t.Fatal(err)
			}
			html := string(res.Body)
			if !strings.Contains(html, tc.tab) || !strings.Contains(html, tc.heading) {
				t.Errorf("want %q and %q in the page", tc.tab, tc.heading)
			}
			if strings.Contains(html, "Status status") {
				t.Error(`the page says "Status status"`)
			}
			feed, err := Render(snap, site, "/feed.xml")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(feed.Body), "Status status") {
				t.Error(`the feed says "Status status"`)
			}
		})
	}
}

// TestPageSpeaksItsLanguage: the page, its feeds and automatic incident
// texts in the reader's language, with <html lang>, local dates, and
// links that keep a language chosen with ?lang=. Golden files hold the
// German and Russian pages whole.
func TestPageSpeaksItsLanguage(t *testing.T) {
	snap := states()["auto-incident"]
	inc := &snap.Incidents[0]
	inc.TitleTranslations = sw.Translations{"de": "DDoS-Angriff betrifft US-East", "ru": "DDoS-атака на US-East"}
	inc.Updates[0].MessageTranslations = sw.Translations{"de": "Wir untersuchen einen Angriff auf US-East (UDP-Flood)."}
	for _, c := range []struct {
		lang     string
		explicit bool
		want     []string
	}{
		{"de", false, []string{`<html lang="de" dir="ltr">`, "Aktueller Status", "DDoS-Angriff betrifft US-East", "Wir untersuchen einen Angriff",
			"7. Juni 2026", `href="/s/acme/history"`, "Kleinere Dienststörung"}},
		{"ru", true, []string{`<html lang="ru" dir="ltr">`, "Текущий статус", "DDoS-атака на US-East", `href="/s/acme/history?lang=ru"`,
			`aria-current="true">Русский`}},
	} {
		s := site
		s.Lang, s.Explicit = locale.Or(c.lang), c.explicit
		res, err := Render(snap, s, "/")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(res.Body), w) {
				t.Errorf("%s: no %q in the page", c.lang, w)
			}
		}
		goldentest.Check(t, filepath.Join("languages", c.lang+".html"), res.Body)
		feed, err := Render(snap, s, "/feed.xml")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(feed.Body), `xml:lang="`+c.lang+`"`) || !strings.Contains(string(feed.Body), inc.TitleTranslations[c.lang]) {
			t.Errorf("%s: the feed does not speak it:\n%s", c.lang, feed.Body)
		}
	}
	// No language asked for: the workspace's default.
	snap.Workspace.Language = "fr"
	res, err := Render(snap, site, "/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), `<html lang="fr"`) || !strings.Contains(string(res.Body), "État actuel") {
		t.Error("the workspace's default language is not the page's")
	}
}
