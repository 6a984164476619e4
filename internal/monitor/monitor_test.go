package monitor_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var ctx = context.Background()

func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	k := &sw.Check{Interval: sw.Duration(30 * time.Second)}
	loc := func(up bool, age time.Duration) sw.CheckLocation {
		return sw.CheckLocation{Up: up, ReportedAt: now.Add(-age)}
	}
	tests := []struct {
		name     string
		locs     []sw.CheckLocation
		want     monitor.Verdict
		outage   bool
		severity sw.Severity
	}{
		{"no location", nil, monitor.Verdict{}, false, sw.SeverityCritical},
		{"one location down", []sw.CheckLocation{loc(false, 0)}, monitor.Verdict{1, 1}, true, sw.SeverityCritical},
		{"one of two", []sw.CheckLocation{loc(false, 0), loc(true, 0)}, monitor.Verdict{1, 2}, false, sw.SeverityLow},
		{"two of two", []sw.CheckLocation{loc(false, 0), loc(false, 0)}, monitor.Verdict{2, 2}, true, sw.SeverityCritical},
		{"two of three", []sw.CheckLocation{loc(false, 0), loc(false, 0), loc(true, 0)}, monitor.Verdict{2, 3}, true, sw.SeverityHigh},
		{"one of three", []sw.CheckLocation{loc(false, 0), loc(true, 0), loc(true, 0)}, monitor.Verdict{1, 3}, false, sw.SeverityLow},
		{"a silent location has no say", []sw.CheckLocation{loc(false, 0), loc(true, 3*time.Minute)}, monitor.Verdict{1, 1}, true, sw.SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := monitor.Judge(k, tt.locs, now)
			if v != tt.want || v.Outage() != tt.outage || (v.Down > 0 && v.Severity() != tt.severity) {
				t.Fatalf("verdict %+v outage %v severity %s; want %+v %v %s", v, v.Outage(), v.Severity(), tt.want, tt.outage, tt.severity)
			}
		})
	}
}

// world is a workspace with a component "web" checked from two nodes
// (also linked to it, so their attacks affect it too), on a real store
// whose clock the test moves, with the real incident automation.
type world struct {
	t     *testing.T
	st    *store.Store
	auto  *incident.Automator
	mon   *monitor.Monitor
	mu    sync.Mutex
	now   time.Time
	ws    string
	nodes map[string]*sw.Node
	check *sw.Check
}

func newWorld(t *testing.T, d store.Dialect) *world {
	w := &world{t: t, now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), nodes: map[string]*sw.Node{}}
	w.st = storetest.Open(t, d, store.WithClock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.auto = incident.New(incident.DefaultSettings(), log)
	w.mon = monitor.New(w.auto, log)
	w.tx(func(tx *store.Tx) error {
		ws := &sw.Workspace{Slug: "acme", Name: "Acme"}
		if err := tx.CreateWorkspace(ctx, ws); err != nil {
			return err
		}
		w.ws = ws.ID
		if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws.ID, Slug: "web", Name: "Web"}); err != nil {
			return err
		}
		for _, name := range []string{"fra-1", "nyc-1"} {
			n := &sw.Node{WorkspaceID: ws.ID, Name: name}
			if _, err := tx.CreateNode(ctx, n, []string{"web"}); err != nil {
				return err
			}
			w.nodes[name] = n
		}
		w.check = &sw.Check{WorkspaceID: ws.ID, Component: "web", Name: "web https", Type: sw.CheckHTTP,
			Target: "https://www.example.com/", Nodes: []string{"*"}}
		w.check.Defaults()
		if err := w.check.Validate(); err != nil {
			return err
		}
		return tx.CreateCheck(ctx, w.check)
	})
	return w
}

func (w *world) tx(fn func(tx *store.Tx) error) {
	w.t.Helper()
	if err := w.st.Tx(ctx, fn); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// report is node's agent reporting the check up or down, as the agent
// API does, a second after whatever happened before.
func (w *world) report(node string, up bool) {
	w.t.Helper()
	w.advance(time.Second)
	res := &sw.CheckResult{CheckID: w.check.ID, At: w.now, OK: up, Up: up, LatencyMS: 12}
	if !up {
		res.Error = "HTTP 503, expected 200-399"
	}
	w.tx(func(tx *store.Tx) error { return w.mon.Observe(ctx, tx, w.ws, w.check, w.nodes[node].ID, res) })
}

func (w *world) incidents() []sw.Incident {
	w.t.Helper()
	list, _, err := w.st.Incidents(ctx, w.ws, store.IncidentFilter{}, store.Page{})
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *world) status() sw.ComponentStatus {
	w.t.Helper()
	c, err := w.st.Component(ctx, w.ws, "web")
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Status
}

func (w *world) timers() {
	w.t.Helper()
	if _, err := w.auto.RunDue(ctx, w.st, w.now); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) audited(action string) bool {
	w.t.Helper()
	log, _, err := w.st.AuditLog(ctx, w.ws, store.Page{Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range log {
		if e.Action == action {
			return true
		}
	}
	return false
}

// With the default rules, a check failing from one of two locations is
// a local problem and is not published; from both it is an outage,
// published at once; when it answers again the incident waits, then
// resolves.
func TestDefaultRulesPublishWhatLocationsAgreeOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, store.Dialect(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		w.report("fra-1", true)
		w.report("nyc-1", true)
		w.report("fra-1", false)
		if n := len(w.incidents()); n != 0 || !w.audited("automation.not_published") {
			t.Fatalf("one of two locations: %d incidents, want none and a not_published audit entry", n)
		}
		w.advance(10 * time.Second)
		w.report("nyc-1", false)
		incs := w.incidents()
		if len(incs) != 1 || incs[0].Status != sw.Investigating || incs[0].Title != "Service disruption affecting Web" {
			t.Fatalf("both locations: %+v", incs)
		}
		if s := w.status(); s != sw.MajorOutage {
			t.Fatalf("component = %s, want major_outage", s)
		}
		if msg := incs[0].Updates[len(incs[0].Updates)-1].Message; msg != "Web is not responding to our checks. We are investigating." {
			t.Fatalf("first update = %q", msg)
		}
		w.advance(time.Minute)
		w.report("fra-1", true)
		if inc := w.incidents()[0]; inc.Status != sw.Investigating {
			t.Fatalf("one location back: %s, want still investigating", inc.Status)
		}
		w.report("nyc-1", true)
		if inc := w.incidents()[0]; inc.Status != sw.Monitoring {
			t.Fatalf("both back: %s, want monitoring", inc.Status)
		}
		w.advance(2*time.Minute + time.Second)
		w.timers()
		inc := w.incidents()[0]
		if inc.Status != sw.Resolved || w.status() != sw.Operational {
			t.Fatalf("after the wait: %s, component %s", inc.Status, w.status())
		}
		if msg := inc.Updates[0].Message; msg != "This incident has been resolved: Web has kept responding since it recovered." {
			t.Fatalf("resolution = %q", msg)
		}
		m, err := w.st.MeasuredUptime(ctx, w.ws, w.now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var comp string
		for id := range m {
			comp = id
		}
		if len(m) != 1 || len(m[comp].Down) != 1 || m[comp].Down[0].End == nil || m[comp].Down[0].End.Sub(m[comp].Down[0].Start) != 61*time.Second {
			t.Fatalf("outage spans = %+v, want one of 61 s (both locations down)", m[comp])
		}
	})
}

// Rules can ask for a number of agreeing locations, and name checks.
func TestRulesCountLocations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, store.Dialect(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		w.tx(func(tx *store.Tx) error {
			return tx.SetRuleText(ctx, w.ws, `attack == monitor_down and locations >= 2 -> publish after 2m if unresolved
attack == monitor_down and check != "web *" -> publish immediately
attack == monitor_down -> do not publish`)
		})
		w.report("fra-1", false)
		w.report("nyc-1", true)
		if incs := w.incidents(); len(incs) != 0 {
			t.Fatalf("one location: %+v, want nothing", incs)
		}
		w.report("nyc-1", false)
		w.advance(time.Minute)
		w.timers()
		if incs := w.incidents(); len(incs) != 0 {
			t.Fatalf("two locations for a minute: %+v, want nothing yet", incs)
		}
		w.advance(time.Minute + time.Second)
		w.timers()
		public := 0
		for _, inc := range w.incidents() {
			if inc.Visibility == sw.VisibilityPublic {
				public++
			}
		}
		if public != 1 {
			t.Fatalf("two locations for two minutes: %d public incidents, want 1", public)
		}
	})
}

// An observed signal that grows into one the rules publish becomes
// public: "observe one location, publish after 2m when two agree".
func TestObservedSignalIsPublishedWhenItGrows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, store.Dialect(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		w.tx(func(tx *store.Tx) error {
			return tx.SetRuleText(ctx, w.ws, `attack == monitor_down and locations >= 2 -> publish after 2m if unresolved
attack == monitor_down -> observe`)
		})
		w.report("fra-1", false)
		w.report("nyc-1", true)
		if incs := w.incidents(); len(incs) != 1 || incs[0].Visibility != sw.VisibilityObserved {
			t.Fatalf("one location: %+v, want one observed incident", incs)
		}
		w.report("nyc-1", false)
		w.advance(time.Minute)
		w.timers()
		if inc := w.incidents()[0]; inc.Visibility != sw.VisibilityObserved || w.status() != sw.Operational {
			t.Fatalf("two locations for a minute: %s, component %s", inc.Visibility, w.status())
		}
		w.advance(time.Minute + time.Second)
		w.timers()
		if inc := w.incidents(); len(inc) != 1 || inc[0].Visibility != sw.VisibilityPublic || w.status() == sw.Operational {
			t.Fatalf("two locations for two minutes: %+v, component %s; want the observed incident public", inc, w.status())
		}
	})
}

// An attack and a failing check on the same component are one incident,
// open until both have ended.
func TestAttackAndCheckCorrelate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, store.Dialect(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		n := w.nodes["fra-1"]
		start := w.now
		attack := func(typ, phase string, seq int) {
			e := &sw.AttackEvent{ID: "a-" + typ, Type: typ, AttackID: "atk1", Seq: seq, At: w.now, Target: "203.0.113.7", Phase: phase,
				Severity: "high", Classification: "syn_flood", StartedAt: start, Vectors: []sw.Vector{{Type: sw.VectorSYNFlood, Proto: "tcp"}}}
			if typ == sw.EventEnded {
				e.EndedAt = &w.now
			}
			w.tx(func(tx *store.Tx) error {
				if _, err := tx.RecordAttackEvent(ctx, w.ws, n.ID, e); err != nil {
					return err
				}
				return w.auto.Apply(ctx, tx, w.ws, n, e)
			})
		}
		attack(sw.EventStarted, sw.PhaseDetected, 1)
		w.advance(30 * time.Second)
		w.report("fra-1", false)
		w.report("nyc-1", false)
		if incs := w.incidents(); len(incs) != 1 || !w.audited("automation.correlated") {
			t.Fatalf("attack then failing check: %d incidents, want 1 (correlated)", len(incs))
		}
		w.advance(time.Minute)
		attack(sw.EventEnded, sw.PhaseEnded, 2)
		if inc := w.incidents()[0]; inc.Status == sw.Monitoring || inc.Status == sw.Resolved {
			t.Fatalf("attack over, check still failing: %s", inc.Status)
		}
		w.report("fra-1", true)
		w.report("nyc-1", true)
		w.advance(2*time.Minute + time.Second)
		w.timers()
		if inc := w.incidents()[0]; inc.Status != sw.Resolved {
			t.Fatalf("both over: %s", inc.Status)
		}
	})
}

// A maintenance window silences checks whatever the rules say.
func TestMaintenanceSilencesChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, store.Dialect(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		w.tx(func(tx *store.Tx) error {
			c, err := tx.Component(ctx, w.ws, "web")
			if err != nil {
				return err
			}
			return tx.SetComponentStatus(ctx, w.ws, c.ID, sw.UnderMaintenance, "")
		})
		w.report("fra-1", false)
		w.report("nyc-1", false)
		if incs := w.incidents(); len(incs) != 0 {
			t.Fatalf("during maintenance: %+v", incs)
		}
	})
}
