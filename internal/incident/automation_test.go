package incident

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var ctx = context.Background()

// world is a workspace with two game components, a node on each and a
// backup component, on a real store whose clock the test moves.
type world struct {
	t      *testing.T
	st     *store.Store
	a      *Automator
	mu     sync.Mutex
	now    time.Time
	ws     string
	nodes  map[string]*sw.Node
	seqs   map[string]int
	starts map[string]time.Time
}

func newWorld(t *testing.T, d store.Dialect) *world {
	w := &world{t: t, now: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), nodes: map[string]*sw.Node{}, seqs: map[string]int{}, starts: map[string]time.Time{}}
	w.st = storetest.Open(t, d, store.WithClock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }))
	w.a = New(DefaultSettings(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.tx(func(tx *store.Tx) error {
		ws := &sw.Workspace{Slug: "acme", Name: "Acme"}
		if err := tx.CreateWorkspace(ctx, ws); err != nil {
			return err
		}
		w.ws = ws.ID
		for _, slug := range []string{"game-01", "backup-eu"} {
			if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws.ID, Slug: slug, Name: strings.ToUpper(slug)}); err != nil {
				return err
			}
		}
		for name, comp := range map[string]string{"edge-1": "game-01", "edge-2": "game-01", "bak-1": "backup-eu"} {
			n := &sw.Node{WorkspaceID: ws.ID, Name: name}
			if _, err := tx.CreateNode(ctx, n, []string{comp}); err != nil {
				return err
			}
			w.nodes[name] = n
		}
		return nil
	})
	return w
}

func (w *world) tx(fn func(tx *store.Tx) error) {
	w.t.Helper()
	if err := w.st.Tx(ctx, fn); err != nil {
		w.t.Fatal(err)
	}
}

// heartbeat stores a heartbeat of node n as the agent API does, ending
// its silence in the same transaction.
func (w *world) heartbeat(n *sw.Node) {
	w.t.Helper()
	w.tx(func(tx *store.Tx) error {
		if err := tx.RecordHeartbeat(ctx, w.ws, n.ID, &sw.Heartbeat{}); err != nil {
			return err
		}
		return w.a.NodeAlive(ctx, tx, w.ws, n)
	})
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// event stores an agent event as the agent API does and applies the
// automation in the same transaction.
func (w *world) event(node, attack, typ string, severity sw.Severity) {
	w.t.Helper()
	key := node + attack
	w.seqs[key]++
	if w.starts[key].IsZero() {
		w.starts[key] = w.now
	}
	phase := map[string]string{sw.EventStarted: sw.PhaseDetected, sw.EventUpdated: sw.PhaseDetected, sw.EventMitigating: sw.PhaseMitigating,
		sw.EventSubsiding: sw.PhaseSubsiding, sw.EventEnded: sw.PhaseEnded}[typ]
	e := sw.AttackEvent{ID: attack + "-" + string(rune('0'+w.seqs[key])), Type: typ, AttackID: attack, Seq: w.seqs[key], At: w.now,
		Target: "203.0.113.7", Phase: phase, Severity: string(severity), Classification: "dns_amplification", StartedAt: w.starts[key],
		Vectors: []sw.Vector{{Type: sw.VectorAmplification, Service: "dns", Port: 53, Proto: "udp", PPS: 300_000, BPS: 3_200_000_000}},
		Title:   "UDP flood (DNS amplification) on 203.0.113.7 — 3.2 Gbps", PeakBPS: 3_200_000_000, PeakPPS: 300_000}
	w.tx(func(tx *store.Tx) error {
		stored, err := tx.RecordAttackEvent(ctx, w.ws, w.nodes[node].ID, &e)
		if err != nil || !stored {
			return err
		}
		return w.a.Apply(ctx, tx, w.ws, w.nodes[node], &e)
	})
}

func (w *world) timers() int {
	w.t.Helper()
	n, err := w.a.RunDue(ctx, w.st, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) incidents() []sw.Incident {
	w.t.Helper()
	list, _, err := w.st.Incidents(ctx, w.ws, store.IncidentFilter{}, store.Page{})
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *world) status(slug string) sw.ComponentStatus {
	c, err := w.st.Component(ctx, w.ws, slug)
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Status
}

func TestHighSeverityPublishesAndFollowsTheLifecycle(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			w.event("edge-1", "atk_1", sw.EventStarted, sw.SeverityHigh)
			incs := w.incidents()
			if len(incs) != 1 {
				t.Fatalf("%d incidents, want 1", len(incs))
			}
			inc := incs[0]
			if inc.Title != "DDoS attack affecting GAME-01" || inc.Source != sw.SourceAuto || inc.Impact != sw.ImpactMajor ||
				inc.Severity != sw.SeverityHigh || w.status("game-01") != sw.PartialOutage {
				t.Fatalf("published incident: %+v", inc)
			}
			for _, u := range inc.Updates {
				if strings.Contains(u.Message, "203.0.113") || strings.Contains(u.Message, "Gbps") || strings.Contains(inc.Title, "203.0.113") {
					t.Fatalf("public text names the target or volume: %q / %q", inc.Title, u.Message)
				}
			}
			w.advance(10 * time.Second)
			w.event("edge-1", "atk_1", sw.EventMitigating, sw.SeverityHigh)
			w.advance(time.Minute)
			w.event("edge-1", "atk_1", sw.EventSubsiding, sw.SeverityHigh)
			w.advance(20 * time.Second)
			w.event("edge-1", "atk_1", sw.EventEnded, sw.SeverityHigh)
			inc = w.incidents()[0]
			if inc.Status != sw.Monitoring || len(inc.Updates) != 4 {
				t.Fatalf("after the attack: %s with %d updates", inc.Status, len(inc.Updates))
			}
			w.advance(time.Minute)
			if n := w.timers(); n != 0 {
				t.Fatalf("%d timers fired before the hold-down", n)
			}
			w.advance(2 * time.Minute)
			if n := w.timers(); n != 1 {
				t.Fatalf("%d timers fired after the hold-down, want 1", n)
			}
			if n := w.timers(); n != 0 {
				t.Fatal("a timer fired twice")
			}
			inc = w.incidents()[0]
			if inc.Status != sw.Resolved || w.status("game-01") != sw.Operational {
				t.Fatalf("resolved? %s, component %s", inc.Status, w.status("game-01"))
			}
			log, _, err := w.st.AuditLog(ctx, w.ws, store.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range log {
				if e.Actor.Type == sw.ActorSystem && e.Actor.ID == "automation" {
					actions = append(actions, e.Action)
				}
			}
			want := "automation.resolved automation.updated automation.updated automation.updated automation.published"
			if strings.Join(actions, " ") != want {
				t.Errorf("audit %v, want %s", actions, want)
			}
		})
	}
}

func TestMediumWaitsAMinute(t *testing.T) {
	w := newWorld(t, store.SQLite)
	// Still going after the delay: published.
	w.event("edge-1", "atk_m1", sw.EventStarted, sw.SeverityMedium)
	if len(w.incidents()) != 0 {
		t.Fatal("medium published at once")
	}
	w.advance(61 * time.Second)
	if n := w.timers(); n != 1 || len(w.incidents()) != 1 {
		t.Fatalf("after the delay: %d timers, %d incidents", n, len(w.incidents()))
	}
	// Ended before the delay: nothing, but the attack stays recorded.
	w2 := newWorld(t, store.SQLite)
	w2.event("edge-1", "atk_m3", sw.EventStarted, sw.SeverityMedium)
	w2.advance(20 * time.Second)
	w2.event("edge-1", "atk_m3", sw.EventEnded, sw.SeverityMedium)
	w2.advance(time.Minute)
	w2.timers()
	if len(w2.incidents()) != 0 {
		t.Fatal("an attack that ended before its delay was published")
	}
	if _, err := w2.st.Attack(ctx, w2.ws, "atk_m3"); err != nil {
		t.Fatalf("the attack is not recorded: %v", err)
	}
}

func TestRestartBetweenDetectionAndDelayedPublication(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_r", sw.EventStarted, sw.SeverityMedium)
	// A new automator (a restarted server) finds the durable timer.
	w.a = New(DefaultSettings(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.advance(2 * time.Minute)
	if n := w.timers(); n != 1 || len(w.incidents()) != 1 {
		t.Fatalf("after restart: %d timers, %d incidents", n, len(w.incidents()))
	}
}

func TestTwoNodesOneIncident(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_a", sw.EventStarted, sw.SeverityHigh)
	w.advance(30 * time.Second)
	w.event("edge-2", "atk_b", sw.EventStarted, sw.SeverityCritical)
	incs := w.incidents()
	if len(incs) != 1 || len(incs[0].Updates) != 2 {
		t.Fatalf("%d incidents (%+v), want one with two updates", len(incs), incs)
	}
	if w.status("game-01") != sw.MajorOutage {
		t.Fatalf("critical second attack left game-01 %s", w.status("game-01"))
	}
}

func TestEscalationByDurationAndReflare(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_e", sw.EventStarted, sw.SeverityHigh)
	w.advance(6 * time.Minute)
	w.event("edge-1", "atk_e", sw.EventUpdated, sw.SeverityHigh)
	if w.status("game-01") != sw.MajorOutage {
		t.Fatalf("after 6 minutes: %s, want major_outage", w.status("game-01"))
	}
	w.advance(25 * time.Minute)
	w.event("edge-1", "atk_e", sw.EventUpdated, sw.SeverityHigh)
	if inc := w.incidents()[0]; inc.Impact != sw.ImpactCritical {
		t.Fatalf("after 31 minutes: impact %s, want critical", inc.Impact)
	}
	w.event("edge-1", "atk_e", sw.EventEnded, sw.SeverityHigh)
	w.advance(time.Minute)
	w.event("edge-1", "atk_e", sw.EventStarted, sw.SeverityHigh) // re-flare within the hold-down
	w.advance(5 * time.Minute)
	w.timers()
	inc := w.incidents()[0]
	if inc.Status != sw.Investigating || len(w.incidents()) != 1 {
		t.Fatalf("re-flare: %s, %d incidents", inc.Status, len(w.incidents()))
	}
}

func TestPinnedIncidentIsLeftAlone(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_p", sw.EventStarted, sw.SeverityHigh)
	id := w.incidents()[0].ID
	pinned, title := true, "Our own words"
	w.tx(func(tx *store.Tx) error {
		_, err := tx.EditIncident(ctx, w.ws, id, store.IncidentEdit{Pinned: &pinned, Title: &title})
		return err
	})
	w.event("edge-1", "atk_p", sw.EventMitigating, sw.SeverityHigh)
	w.event("edge-1", "atk_p", sw.EventEnded, sw.SeverityHigh)
	w.advance(10 * time.Minute)
	w.timers()
	inc := w.incidents()[0]
	if inc.Title != title || inc.Status != sw.Investigating || len(inc.Updates) != 1 {
		t.Fatalf("pinned incident changed: %+v", inc)
	}
}

func TestDraftAndObserveStayOffThePage(t *testing.T) {
	for _, tc := range []struct{ rule, visibility string }{{"draft", sw.VisibilityDraft}, {"observe", sw.VisibilityObserved}} {
		w := newWorld(t, store.SQLite)
		w.tx(func(tx *store.Tx) error { return tx.SetRuleText(ctx, w.ws, "severity >= low -> "+tc.rule) })
		w.event("edge-1", "atk_d", sw.EventStarted, sw.SeverityCritical)
		incs := w.incidents()
		if len(incs) != 1 || incs[0].Visibility != tc.visibility || w.status("game-01") != sw.Operational {
			t.Fatalf("%s: %+v, component %s", tc.rule, incs, w.status("game-01"))
		}
		snap, err := w.st.Snapshot(ctx, w.ws, w.now.Add(-time.Hour), w.now)
		if err != nil || len(snap.Incidents) != 0 {
			t.Fatalf("%s reached the public page: %v", tc.rule, err)
		}
	}
}

func TestComponentRulesOverride(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.tx(func(tx *store.Tx) error {
		return tx.SetRuleText(ctx, w.ws, "severity >= medium -> publish immediately\ncomponent \"backup-*\": severity < critical -> do not publish")
	})
	w.event("bak-1", "atk_b1", sw.EventStarted, sw.SeverityHigh)
	if len(w.incidents()) != 0 {
		t.Fatal("the backup rule did not hold")
	}
	w.event("edge-1", "atk_b2", sw.EventStarted, sw.SeverityHigh)
	if len(w.incidents()) != 1 {
		t.Fatal("game-01 not published")
	}
}

func TestReplay(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_big", sw.EventStarted, sw.SeverityHigh)
	w.event("edge-1", "atk_short", sw.EventStarted, sw.SeverityMedium)
	w.advance(30 * time.Second)
	w.event("edge-1", "atk_short", sw.EventEnded, sw.SeverityMedium)
	w.event("bak-1", "atk_bak", sw.EventStarted, sw.SeverityHigh)
	set, err := rules.Parse("severity >= high -> publish immediately\nseverity == medium -> publish after 60s\ncomponent \"backup-*\": severity < critical -> do not publish")
	if err != nil {
		t.Fatal(err)
	}
	verdicts, err := Replay(ctx, w.st, w.ws, set, w.now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range verdicts {
		got[v.Attack.ID] = v.Public
	}
	if len(verdicts) != 3 || !got["atk_big"] || got["atk_short"] || got["atk_bak"] {
		t.Fatalf("replay: %+v", got)
	}
}

// TestAttackDuringMaintenance: the rules still handle it, the component
// shows the worse status, the page says it happened during maintenance,
// and when the window ends the component keeps the incident's status.
func TestAttackDuringMaintenance(t *testing.T) {
	w := newWorld(t, store.SQLite)
	m := &sw.Maintenance{WorkspaceID: w.ws, Title: "Router upgrade", StartsAt: w.now.Add(-time.Minute), EndsAt: w.now.Add(time.Hour)}
	w.tx(func(tx *store.Tx) error {
		if err := tx.CreateMaintenance(ctx, m, []string{"game-01"}); err != nil {
			return err
		}
		return tx.SetMaintenanceState(ctx, w.ws, m.ID, sw.MaintenanceInProgress)
	})
	if w.status("game-01") != sw.UnderMaintenance {
		t.Fatal("maintenance not in progress")
	}
	w.advance(time.Minute)
	w.event("edge-1", "atk_mx", sw.EventStarted, sw.SeverityHigh)
	if len(w.incidents()) != 1 || w.status("game-01") != sw.PartialOutage {
		t.Fatalf("during maintenance: %d incidents, game-01 %s", len(w.incidents()), w.status("game-01"))
	}
	snap, err := w.st.Snapshot(ctx, w.ws, w.now.Add(-time.Hour), w.now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := page.Render(snap, page.Site{Prefix: "/s/acme", RootURL: "http://x/s/acme"}, "/")
	if err != nil || !strings.Contains(string(res.Body), "During scheduled maintenance") {
		t.Fatalf("the page does not say the incident happened during maintenance: %v", err)
	}
	w.tx(func(tx *store.Tx) error { return tx.SetMaintenanceState(ctx, w.ws, m.ID, sw.MaintenanceCompleted) })
	if w.status("game-01") != sw.PartialOutage {
		t.Fatalf("after the window: game-01 %s, want the incident's partial_outage", w.status("game-01"))
	}
}

// TestNodeSilence: a node whose heartbeats stop raises node_unreachable,
// which the default rules publish after a minute (medium), and the next
// heartbeat ends it; the incident then resolves after the hold-down.
func TestNodeSilence(t *testing.T) {
	w := newWorld(t, store.SQLite)
	n := w.nodes["edge-1"]
	heartbeat := func() { w.heartbeat(n) }
	heartbeat()
	check := func() {
		if err := w.a.CheckSilence(ctx, w.st, w.now, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	w.advance(20 * time.Second)
	check()
	if n, _ := w.st.AttackEventCount(ctx, w.ws, n.ID); n != 0 {
		t.Fatal("silence raised too early")
	}
	w.advance(20 * time.Second)
	check()
	check() // once per spell
	if n, _ := w.st.AttackEventCount(ctx, w.ws, n.ID); n != 1 {
		t.Fatalf("%d events after 40 s of silence, want 1", n)
	}
	w.advance(61 * time.Second)
	w.timers()
	incs := w.incidents()
	if len(incs) != 1 || incs[0].Title != "Connectivity problems affecting GAME-01" || w.status("game-01") != sw.DegradedPerformance {
		t.Fatalf("after a silent minute: %+v", incs)
	}
	heartbeat()
	w.advance(3 * time.Minute)
	w.timers()
	if inc := w.incidents()[0]; inc.Status != sw.Resolved {
		t.Fatalf("heartbeats back, incident %s", inc.Status)
	}
}

func TestPublicAttackDetailsOptIn(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		w := newWorld(t, store.SQLite)
		w.tx(func(tx *store.Tx) error {
			ws, err := tx.Workspace(ctx, w.ws)
			if err != nil {
				return err
			}
			ws.PublicAttackDetails = optIn
			return tx.UpdateWorkspace(ctx, ws)
		})
		w.event("edge-1", "atk_o", sw.EventStarted, sw.SeverityHigh)
		msg := w.incidents()[0].Updates[0].Message
		if shown := strings.Contains(msg, "203.0.113.7") && strings.Contains(msg, "3.2 Gbps"); shown != optIn {
			t.Errorf("opt-in %v: %q", optIn, msg)
		}
	}
}

// messages lists an incident's update texts, oldest first.
func messages(inc sw.Incident) []string {
	out := make([]string, len(inc.Updates))
	for i, u := range inc.Updates {
		out[len(out)-1-i] = u.Message
	}
	return out
}

// TestCorrelatedIncidentWaitsForEveryAttack: with two nodes' attacks on
// one incident, the first one ending changes nothing public; the
// incident and the component hold until the second ends, which posts
// "back to normal" once; a linked attack's new event after the
// resolution reopens the incident.
func TestCorrelatedIncidentWaitsForEveryAttack(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			w.event("edge-1", "atk_a", sw.EventStarted, sw.SeverityHigh)
			w.advance(time.Second)
			w.event("edge-2", "atk_b", sw.EventStarted, sw.SeverityHigh)
			w.advance(time.Minute)
			w.event("edge-1", "atk_a", sw.EventEnded, sw.SeverityHigh)
			w.advance(3 * time.Minute) // past --resolve-after
			w.timers()
			w.event("edge-2", "atk_b", sw.EventUpdated, sw.SeverityHigh)
			inc := w.incidents()[0]
			if inc.Status != sw.Investigating || w.status("game-01") != sw.PartialOutage || len(inc.Updates) != 2 {
				t.Fatalf("one of two attacks ended: %s, game-01 %s, updates %q", inc.Status, w.status("game-01"), messages(inc))
			}
			w.event("edge-2", "atk_b", sw.EventEnded, sw.SeverityHigh)
			w.advance(time.Second)
			w.event("edge-1", "atk_a", sw.EventEnded, sw.SeverityHigh) // a late repeat of the first end
			inc = w.incidents()[0]
			if inc.Status != sw.Monitoring || len(inc.Updates) != 3 || !strings.HasPrefix(inc.Updates[0].Message, "Traffic is back to normal") {
				t.Fatalf("both ended: %s, updates %q", inc.Status, messages(inc))
			}
			w.advance(3 * time.Minute)
			w.timers()
			if inc = w.incidents()[0]; inc.Status != sw.Resolved || w.status("game-01") != sw.Operational {
				t.Fatalf("resolve: %s, game-01 %s", inc.Status, w.status("game-01"))
			}
			// The second node's attack flares up again under the same id.
			w.event("edge-2", "atk_b", sw.EventUpdated, sw.SeverityHigh)
			if inc = w.incidents()[0]; inc.Status != sw.Investigating || w.status("game-01") != sw.PartialOutage {
				t.Fatalf("linked attack active again: %s, game-01 %s", inc.Status, w.status("game-01"))
			}
		})
	}
}

// TestTwoEndsOneNotification: two correlated attacks ending a second
// apart queue one monitoring notification, not two.
func TestTwoEndsOneNotification(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			w.event("edge-1", "atk_a", sw.EventStarted, sw.SeverityHigh)
			w.event("edge-2", "atk_b", sw.EventStarted, sw.SeverityHigh)
			before, err := w.st.PendingEvents(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			w.advance(time.Minute)
			w.event("edge-1", "atk_a", sw.EventEnded, sw.SeverityHigh)
			w.advance(time.Second)
			w.event("edge-2", "atk_b", sw.EventEnded, sw.SeverityHigh)
			after, err := w.st.PendingEvents(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(after) - len(before); n != 1 {
				t.Fatalf("%d notifications for two attacks ending, want 1", n)
			}
		})
	}
}

// TestAutomaticTextsSayWhatIsKnown: an attack's incident opens as an
// investigation (no mitigation claimed before one is reported); a lost
// node's incident never speaks of an attack.
func TestAutomaticTextsSayWhatIsKnown(t *testing.T) {
	w := newWorld(t, store.SQLite)
	w.event("edge-1", "atk_w", sw.EventStarted, sw.SeverityHigh)
	first := messages(w.incidents()[0])[0]
	if strings.Contains(first, "mitigat") || !strings.Contains(first, "investigating") {
		t.Errorf("opening update %q", first)
	}
	w.advance(time.Second)
	w.event("edge-1", "atk_w", sw.EventMitigating, sw.SeverityHigh)
	if got := messages(w.incidents()[0]); !strings.Contains(got[len(got)-1], "Mitigation is in place") {
		t.Errorf("after attack.mitigating: %q", got)
	}

	w = newWorld(t, store.SQLite)
	n := w.nodes["bak-1"]
	beat := func() { w.heartbeat(n) }
	beat()
	w.advance(40 * time.Second)
	if err := w.a.CheckSilence(ctx, w.st, w.now, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	w.advance(61 * time.Second) // the default rules publish a medium signal after a minute
	w.timers()
	beat()
	w.advance(3 * time.Minute)
	w.timers()
	incs := w.incidents()
	if len(incs) != 1 || incs[0].Status != sw.Resolved {
		t.Fatalf("lost node: %+v", incs)
	}
	for _, m := range messages(incs[0]) {
		if strings.Contains(strings.ToLower(m), "attack") || strings.Contains(m, "traffic") {
			t.Errorf("a lost node's incident says %q", m)
		}
	}
}

// A rule may take its texts from an incident template; a template
// deleted since falls back to the defaults, said in the audit log.
func TestRuleUsesIncidentTemplate(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			w.tx(func(tx *store.Tx) error {
				if err := tx.SetRuleText(ctx, w.ws, `severity >= high -> publish immediately template "ddos"`); err != nil {
					return err
				}
				return tx.SaveIncidentTemplate(ctx, &sw.IncidentTemplate{WorkspaceID: w.ws, Name: "ddos",
					Title: "Network attack on {components}", Message: "Our filters are handling a {attack}; some players may lag.",
					TitleTranslations:   sw.Translations{"de": "Netzwerkangriff auf {components}"},
					MessageTranslations: sw.Translations{"de": "Unsere Filter wehren eine {attack} ab."}})
			})
			w.event("edge-1", "atk_t", sw.EventStarted, sw.SeverityHigh)
			incs := w.incidents()
			if len(incs) != 1 || incs[0].Title != "Network attack on GAME-01" ||
				incs[0].Updates[0].Message != "Our filters are handling a DNS amplification; some players may lag." {
				t.Fatalf("incident = %+v", incs)
			}
			// The template's German texts, with the attack in German words;
			// languages the template lacks read the template's own text.
			if got := incs[0].TitleTranslations; got["de"] != "Netzwerkangriff auf GAME-01" || got["fr"] != "" {
				t.Errorf("title translations %v", got)
			}
			if got := incs[0].Updates[0].MessageTranslations["de"]; got != "Unsere Filter wehren eine DNS-Amplification ab." {
				t.Errorf("German message %q", got)
			}
			w.tx(func(tx *store.Tx) error {
				tpl, err := tx.IncidentTemplate(ctx, w.ws, "ddos")
				if err != nil {
					return err
				}
				return tx.DeleteIncidentTemplate(ctx, w.ws, tpl.ID)
			})
			w.event("bak-1", "atk_u", sw.EventStarted, sw.SeverityHigh)
			for _, inc := range w.incidents() {
				if strings.Contains(inc.Title, "BACKUP-EU") && inc.Title != "DDoS attack affecting BACKUP-EU" {
					t.Fatalf("without its template: %q", inc.Title)
				}
			}
		})
	}
}
