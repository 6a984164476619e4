package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
)

//go:embed templates/page.html
var templateFS embed.FS

// templates holds one template set per kind of page; each defines "body"
// as its own content inside the shared "page" layout.
var templates = func() map[string]*template.Template {
	base := template.Must(template.ParseFS(templateFS, "templates/page.html"))
	out := map[string]*template.Template{}
	for _, kind := range []string{"index", "incident", "maintenance", "history", "component-page"} {
		t := template.Must(base.Clone())
		template.Must(t.Parse(`{{define "body"}}{{template "` + kind + `" .}}{{end}}`))
		out[kind] = t
	}
	return out
}()

type timeView struct{ ISO, Local, UTC string }

type updateView struct {
	Label, Message string
	At             timeView
}

type incidentView struct {
	L                                                         *locale.Locale
	Title, Link, Impact, ImpactLabel, StatusLabel, Components string
	DuringMaintenance                                         bool
	Started                                                   timeView
	Updates                                                   []updateView
	// Postmortem is the published write-up, sanitised HTML.
	Postmortem   template.HTML
	PostmortemAt *timeView
}

type maintenanceView struct {
	L                                            *locale.Locale
	Title, Link, Message, StateLabel, Components string
	Starts, Ends                                 timeView
}

// barView is a run of days drawn as one rectangle: consecutive days of
// the same status class with nothing to tell, or one day that has
// something to tell (its Title, shown on hover).
type barView struct {
	X, W         int
	Class, Title string
}

type uptimeView struct {
	Width   int
	Percent string
	Label   string // the bar's accessible summary
	Bars    []barView
	// Trouble lists the days that were not a plain operational day,
	// newest first: the bar's details for readers without a pointer.
	Trouble []string
}

type componentView struct {
	L                                *locale.Locale
	Name, Description, Status, Label string
	// Link is the component's own page, for components with a check.
	Link   string
	Uptime *uptimeView
	Chart  *chartView
}

// chartView is a response-time chart drawn on the server: one SVG path,
// failed buckets marked, and the figures in words for readers of text.
type chartView struct {
	Width, Height int
	Path          string
	Failed        []barView
	Check, Label  string
	Mean, Max     string
	Runs, Fails   int
}

type itemView struct {
	Group, Status, Label string
	Component            *componentView
	Children             []*componentView
}

type monthView struct {
	start        time.Time
	Name         string
	Incidents    []incidentView
	Maintenances []maintenanceView
}

// langLink is one entry of the language switcher.
type langLink struct {
	Code, Name string
	Current    bool
}

type view struct {
	Title, Name, Prefix, Brand string
	// L speaks the page's language; Lang and Dir go on <html>.
	L         *locale.Locale
	Lang, Dir string
	// Q keeps a language chosen with ?lang= on the page's own links.
	Q     string
	Langs []langLink
	// NoIndex keeps private pages out of search engines.
	NoIndex bool
	// Powered is the "Powered by stormwatch" line with its link.
	Powered template.HTML
	// Heading is the page's own title: the branding title as set, or
	// "<name> status".
	Heading  string
	Revision int64
	Branding sw.Branding
	Badge    bool
	Overall  sw.Overall

	Items                      []itemView
	Active, Recent             []incidentView
	MaintActive, MaintUpcoming []maintenanceView

	Incident    *incidentView
	Maintenance *maintenanceView
	Component   *componentView
	Months      []monthView
}

// renderer builds view values from one snapshot.
type renderer struct {
	snap  *sw.Snapshot
	site  Site
	l     *locale.Locale
	loc   *time.Location
	names map[string]string // component slug -> name
}

func (r *renderer) time(t time.Time) timeView {
	return timeView{ISO: t.UTC().Format(time.RFC3339), Local: r.l.DateTime(t.In(r.loc)),
		UTC: t.UTC().Format("2006-01-02 15:04 UTC")}
}

func (r *renderer) incident(inc *sw.Incident) incidentView {
	names := make([]string, len(inc.Components))
	for i, c := range inc.Components {
		names[i] = c.Name
	}
	v := incidentView{L: r.l, Title: inc.TitleTranslations.In(r.l.Code, inc.Title), Link: r.link("/incidents/" + inc.ID), Impact: string(inc.Impact),
		ImpactLabel: r.l.T(impactLabel(inc.Impact)), StatusLabel: r.label(string(inc.Status)), Components: strings.Join(names, ", "),
		DuringMaintenance: r.duringMaintenance(inc), Started: r.time(inc.CreatedAt)}
	for _, u := range inc.Updates {
		v.Updates = append(v.Updates, updateView{Label: r.label(string(u.Status)), Message: u.MessageTranslations.In(r.l.Code, u.Message),
			At: r.time(u.CreatedAt)})
	}
	return v
}

// duringMaintenance reports whether an incident began inside a maintenance
// window on one of its components.
func (r *renderer) duringMaintenance(inc *sw.Incident) bool {
	for _, m := range r.snap.Maintenances {
		if m.StartedAt == nil || inc.CreatedAt.Before(*m.StartedAt) || (m.CompletedAt != nil && inc.CreatedAt.After(*m.CompletedAt)) {
			continue
		}
		for _, c := range inc.Components {
			for _, slug := range m.Components {
				if c.Slug == slug {
					return true
				}
			}
		}
	}
	return false
}

// label is a status in the page's words.
func (r *renderer) label(status string) string { return r.l.T(sw.StatusLabel(status)) }

// link is a path under the page root, keeping an explicit language.
func (r *renderer) link(path string) string { return r.site.Prefix + path + r.site.query() }

// impactLabel is an impact as a text of the catalogue.
func impactLabel(i sw.Impact) string {
	switch i {
	case sw.ImpactCritical:
		return "Critical impact"
	case sw.ImpactMajor:
		return "Major impact"
	case sw.ImpactMinor:
		return "Minor impact"
	}
	return "No impact"
}

func (r *renderer) maintenance(m *sw.Maintenance) maintenanceView {
	names := make([]string, 0, len(m.Components))
	for _, slug := range m.Components {
		names = append(names, r.names[slug])
	}
	return maintenanceView{L: r.l, Title: m.Title, Link: r.link("/maintenance/" + m.ID), Message: m.Message,
		StateLabel: r.label(string(m.State)), Components: strings.Join(names, ", "), Starts: r.time(m.StartsAt), Ends: r.time(m.EndsAt)}
}

var dayClass = map[sw.ComponentStatus]string{sw.Operational: "op", sw.DegradedPerformance: "deg", sw.PartialOutage: "part",
	sw.MajorOutage: "maj", sw.UnderMaintenance: "mnt"}

// component renders a component with its 90-day bar. The bar is a few
// rectangles, not 90: runs of same-class days without news merge, and
// only days with something to tell get a rectangle and a title of their
// own, listed again in a details element. A page of many components
// stays small.
func (r *renderer) component(c *sw.Component) *componentView {
	u := ComputeUptime(c, r.snap.History[c.ID], r.snap.Measured[c.ID], r.snap.Incidents, r.snap.Now, r.loc)
	uv := &uptimeView{Width: UptimeDays*4 - 1, Percent: r.l.Percent(u.Percent)}
	first := -1
	for i, d := range u.Days {
		class, title := "none", ""
		if d.Known {
			if first < 0 {
				first = i
			}
			class = dayClass[d.Worst]
			if d.Worst != sw.Operational || d.Uptime < 1 || len(d.Incidents) > 0 {
				title = r.l.T("%s: %s uptime", r.l.Date(d.Date), r.l.Percent(100*d.Uptime))
				if d.Worst != sw.Operational {
					title += " • " + r.label(string(d.Worst))
				}
				for _, inc := range d.Incidents {
					title += " • " + inc.TitleTranslations.In(r.l.Code, inc.Title)
				}
			}
		}
		if n := len(uv.Bars); title == "" && n > 0 && uv.Bars[n-1].Title == "" && uv.Bars[n-1].Class == class {
			uv.Bars[n-1].W += 4
			continue
		}
		uv.Bars = append(uv.Bars, barView{X: i * 4, W: 3, Class: class, Title: title})
		if title != "" {
			uv.Trouble = append([]string{title}, uv.Trouble...)
		}
	}
	switch {
	case first < 0:
		uv.Label = r.l.T("No uptime data yet")
	case first > 0:
		uv.Label = r.l.T("%s uptime over the past %d days (no data before %s)", uv.Percent, UptimeDays-first, r.l.Date(u.Days[first].Date))
	default:
		uv.Label = r.l.T("%s uptime over the past 90 days", uv.Percent)
	}
	if len(uv.Trouble) == 0 && first >= 0 {
		uv.Label += ", " + r.l.T("every day operational")
	}
	cv := &componentView{L: r.l, Name: c.Name, Description: c.Description, Status: string(c.Status), Label: r.label(string(c.Status)), Uptime: uv}
	if r.snap.Latency[c.ID] != nil {
		cv.Link = r.link("/components/" + c.Slug)
	}
	return cv
}

// Chart geometry: a day of ten-minute buckets, 5 units each.
const (
	chartBuckets = 144
	chartStep    = 5
	chartHeight  = 120
)

// chart draws the component's main check's response times over the last
// day: a path through each bucket's mean, a gap where no run passed, and
// a red mark on buckets with failures.
func (r *renderer) chart(s *sw.LatencySeries) *chartView {
	cv := &chartView{Width: chartBuckets * chartStep, Height: chartHeight, Check: s.Check}
	start := r.snap.Now.Add(-24 * time.Hour).Truncate(10 * time.Minute)
	peak, sum, passed := 0.0, 0.0, 0
	for _, p := range s.Points {
		peak = max(peak, p.LatencyMS)
		cv.Runs += p.Runs
		cv.Fails += p.Fails
		if ok := p.Runs - p.Fails; ok > 0 {
			sum += p.LatencyMS * float64(ok)
			passed += ok
		}
	}
	if cv.Runs == 0 {
		cv.Label = r.l.T("No check runs in the last 24 hours")
		return cv
	}
	scale := 1.0
	if peak > 0 {
		scale = float64(chartHeight-10) / peak
	}
	var path strings.Builder
	pen := false
	for _, p := range s.Points {
		i := int(p.At.Sub(start) / (10 * time.Minute))
		if i < 0 || i >= chartBuckets {
			continue
		}
		x := i*chartStep + chartStep/2
		if p.Fails > 0 {
			cv.Failed = append(cv.Failed, barView{X: i * chartStep, W: chartStep, Title: r.l.T("%s: %d of %d checks failed",
				r.l.Clock(p.At.In(r.loc)), p.Fails, p.Runs)})
		}
		if p.Runs == p.Fails {
			pen = false
			continue
		}
		op := "L"
		if !pen {
			op = "M"
		}
		fmt.Fprintf(&path, "%s%d %d", op, x, chartHeight-int(p.LatencyMS*scale))
		pen = true
	}
	cv.Path = path.String()
	if passed > 0 {
		cv.Mean = fmt.Sprintf("%.0f ms", sum/float64(passed))
	}
	cv.Max = fmt.Sprintf("%.0f ms", peak)
	cv.Label = r.l.T("Response time of %s over the last 24 hours: mean %s, highest ten-minute mean %s; %d of %d checks failed",
		s.Check, cv.Mean, cv.Max, cv.Fails, cv.Runs)
	return cv
}

// componentPage is a component's own page: status, 90-day bar and the
// response-time chart of its main check.
func (r *renderer) componentPage(slug string) *view {
	for i := range r.snap.Components {
		c := &r.snap.Components[i]
		if c.Slug != slug || r.snap.Latency[c.ID] == nil {
			continue
		}
		v := r.base(c.Name)
		v.Component = r.component(c)
		v.Component.Chart = r.chart(r.snap.Latency[c.ID])
		return v
	}
	return nil
}

func (r *renderer) base(title string) *view {
	w := &r.snap.Workspace
	brand := w.Branding.BrandColor
	if brand == "" {
		brand = "#0969da"
	}
	name, heading := w.PageName(), pageTitle(w, r.l)
	if title == "" {
		title = heading
	} else {
		title += " · " + heading
	}
	overall := Overall(r.snap)
	overall.Description = r.l.T(overall.Description)
	v := &view{Title: title, Name: name, Heading: heading, Prefix: r.site.Prefix, Brand: brand, Revision: w.Revision, Branding: w.Branding,
		Badge: r.site.Badge && !w.Branding.HideBadge, Overall: overall, L: r.l, Lang: r.l.Code, Dir: r.l.Dir, Q: r.site.query(),
		NoIndex: r.site.NoIndex}
	// The catalogue is ours, so its text is escaped and the link put in.
	v.Powered = template.HTML(strings.Replace(template.HTMLEscapeString(r.l.T("Powered by %s", "{link}")), "{link}",
		`<a href="https://github.com/stormwatch/stormwatch" rel="noopener">stormwatch</a>`, 1))
	for _, l := range locale.All() {
		v.Langs = append(v.Langs, langLink{Code: l.Code, Name: l.Name, Current: l == r.l})
	}
	return v
}

func renderHTML(snap *sw.Snapshot, site Site, path string) ([]byte, error) {
	r := &renderer{snap: snap, site: site, l: site.localeOf(&snap.Workspace), loc: location(&snap.Workspace), names: map[string]string{}}
	for _, c := range snap.Components {
		r.names[c.Slug] = c.Name
	}
	var kind string
	var v *view
	switch {
	case path == "/" || path == "":
		kind, v = "index", r.index()
	case path == "/history":
		kind, v = "history", r.history()
	case strings.HasPrefix(path, "/incidents/"):
		id := strings.TrimPrefix(path, "/incidents/")
		for i := range snap.Incidents {
			if snap.Incidents[i].ID == id {
				iv := r.incident(&snap.Incidents[i])
				if pm := snap.Incidents[i].Postmortem; pm != nil && pm.PublishedAt != nil {
					iv.Postmortem = RenderMarkdown(pm.Markdown)
					at := r.time(*pm.PublishedAt)
					iv.PostmortemAt = &at
				}
				kind, v = "incident", r.base(iv.Title)
				v.Incident = &iv
			}
		}
	case path == "/embed":
		kind, v = "embed", r.index()
	case strings.HasPrefix(path, "/components/"):
		if v = r.componentPage(strings.TrimPrefix(path, "/components/")); v != nil {
			kind = "component-page"
		}
	case strings.HasPrefix(path, "/maintenance/"):
		id := strings.TrimPrefix(path, "/maintenance/")
		for i := range snap.Maintenances {
			if snap.Maintenances[i].ID == id {
				mv := r.maintenance(&snap.Maintenances[i])
				kind, v = "maintenance", r.base(snap.Maintenances[i].Title)
				v.Maintenance = &mv
			}
		}
	}
	if v == nil {
		return nil, ErrNotFound
	}
	var b bytes.Buffer
	layout := "page"
	if kind == "embed" {
		kind, layout = "index", "embed" // the iframe variant: no page around it
	}
	if err := templates[kind].ExecuteTemplate(&b, layout, v); err != nil {
		return nil, fmt.Errorf("render %s: %w", path, err)
	}
	return b.Bytes(), nil
}

// recentlyResolved is how long a resolved incident stays on the front page.
const recentlyResolved = 24 * time.Hour

func (r *renderer) index() *view {
	v := r.base("")
	for _, it := range layout(r.snap) {
		if it.group == nil {
			v.Items = append(v.Items, itemView{Component: r.component(it.component)})
			continue
		}
		iv := itemView{Group: it.group.Name, Status: string(it.status), Label: r.label(string(it.status))}
		for _, c := range it.children {
			iv.Children = append(iv.Children, r.component(c))
		}
		v.Items = append(v.Items, iv)
	}
	for i := range r.snap.Incidents {
		inc := &r.snap.Incidents[i]
		switch {
		case inc.Status != sw.Resolved:
			v.Active = append(v.Active, r.incident(inc))
		case inc.ResolvedAt != nil && r.snap.Now.Sub(*inc.ResolvedAt) < recentlyResolved:
			v.Recent = append(v.Recent, r.incident(inc))
		}
	}
	for i := range r.snap.Maintenances {
		m := &r.snap.Maintenances[i]
		switch m.State {
		case sw.MaintenanceInProgress:
			v.MaintActive = append(v.MaintActive, r.maintenance(m))
		case sw.MaintenanceScheduled:
			v.MaintUpcoming = append(v.MaintUpcoming, r.maintenance(m))
		}
	}
	return v
}

func (r *renderer) history() *view {
	v := r.base(r.l.T("Incident history"))
	idx := map[string]int{}
	month := func(t time.Time) *monthView {
		name := r.l.Month(t.In(r.loc))
		i, ok := idx[name]
		if !ok {
			i = len(v.Months)
			idx[name] = i
			local := t.In(r.loc)
			v.Months = append(v.Months, monthView{Name: name, start: time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, r.loc)})
		}
		return &v.Months[i]
	}
	// Incidents come newest first, so months do too.
	for i := range r.snap.Incidents {
		inc := &r.snap.Incidents[i]
		m := month(inc.CreatedAt)
		m.Incidents = append(m.Incidents, r.incident(inc))
	}
	for i := len(r.snap.Maintenances) - 1; i >= 0; i-- {
		mt := &r.snap.Maintenances[i]
		if mt.State == sw.MaintenanceCompleted {
			m := month(mt.StartsAt)
			m.Maintenances = append(m.Maintenances, r.maintenance(mt))
		}
	}
	sort.SliceStable(v.Months, func(i, j int) bool { return v.Months[i].start.After(v.Months[j].start) })
	return v
}
