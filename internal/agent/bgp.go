package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/mitigation"
)

// Announcer announces mitigations upstream (bgpspeaker.Speaker).
type Announcer interface {
	Announce(ctx context.Context, a mitigation.Announcement) error
	Withdraw(ctx context.Context, a mitigation.Announcement) error
	Announced() []mitigation.Announcement
}

// MitigationReport is what the agent tells the server of its BGP work:
// every announce and withdraw for the audit log, failures and lost
// sessions for the operators.
type MitigationReport struct {
	AttackID string `json:"attack_id,omitempty"`
	// Action is announce, withdraw, failed, peer_up or peer_down.
	Action string `json:"action"`
	Route  string `json:"route,omitempty"`
	Peer   string `json:"peer,omitempty"`
	Error  string `json:"error,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// bgpMitigation runs the node's mitigation policy: announcements when an
// attack starts, their withdrawal once it ended and the hold passed.
type bgpMitigation struct {
	a        *Agent
	speaker  Announcer
	dryRun   bool
	mu       sync.Mutex
	policy   mitigation.Policy
	from     string                               // where the policy comes from
	active   map[string][]mitigation.Announcement // by attack id
	withdraw map[string]*time.Timer               // pending withdrawals, by attack id
}

func describe(a mitigation.Announcement) string {
	if a.Kind == "blackhole" {
		comms := make([]string, len(a.Communities))
		for i, c := range a.Communities {
			comms[i] = fmt.Sprintf("%d:%d", c>>16, c&0xffff)
		}
		return fmt.Sprintf("blackhole %s communities %s", a.Target, strings.Join(comms, " "))
	}
	action := "drop"
	if a.Rate > 0 {
		action = fmt.Sprintf("rate-limit %.0f B/s", a.Rate)
	}
	return fmt.Sprintf("flowspec %s then %s", a.Match, action)
}

// serverPolicy applies the node's policy as the server sets it: when set,
// it overrides the --bgp file's; when removed, the file's applies again.
// A policy the agent cannot read keeps the one in force, logged.
func (m *bgpMitigation) serverPolicy(raw json.RawMessage) {
	p := m.a.cfg.BGPPolicy
	from := "the --bgp file"
	if len(raw) > 0 && string(raw) != "null" {
		var err error
		if p, err = mitigation.ParsePolicy(raw); err != nil {
			m.a.cfg.Log.Error("the server's mitigation policy is unreadable; keeping the one in force", "err", err)
			return
		}
		from = "the server"
	}
	m.mu.Lock()
	changed := m.from != from || fmt.Sprint(m.policy) != fmt.Sprint(p)
	m.policy, m.from = p, from
	m.mu.Unlock()
	if changed {
		m.a.cfg.Log.Info("mitigation policy", "from", from, "rules", len(p.Rules), "hold", p.Hold)
	}
}

// started announces what the policy asks for attack e and returns the
// descriptions of what was announced (none: nothing to report).
func (m *bgpMitigation) started(ctx context.Context, e sw.AttackEvent) []string {
	m.mu.Lock()
	if t := m.withdraw[e.AttackID]; t != nil {
		// The attack resumed within the hold: keep what is announced.
		t.Stop()
		delete(m.withdraw, e.AttackID)
		m.mu.Unlock()
		return nil
	}
	if len(m.active[e.AttackID]) > 0 {
		m.mu.Unlock()
		return nil
	}
	policy := m.policy
	m.mu.Unlock()
	rule, ok := policy.Decide(&e)
	if !ok {
		return nil
	}
	plan, err := mitigation.Plan(&e, rule, &policy, m.a.cfg.Detect.Prefixes)
	if err != nil {
		m.report(ctx, MitigationReport{AttackID: e.AttackID, Action: "failed", Error: err.Error()})
		return nil
	}
	var done []string
	for _, an := range plan {
		if an.Kind == "blackhole" && policy.MaxBlackholes > 0 && m.blackholes() >= policy.MaxBlackholes {
			m.report(ctx, MitigationReport{AttackID: e.AttackID, Action: "failed", Route: describe(an),
				Error: fmt.Sprintf("%d blackholes announced already, the most the policy allows", policy.MaxBlackholes)})
			continue
		}
		if err := m.speaker.Announce(ctx, an); err != nil {
			m.report(ctx, MitigationReport{AttackID: e.AttackID, Action: "failed", Route: describe(an), Error: err.Error()})
			continue
		}
		m.mu.Lock()
		m.active[e.AttackID] = append(m.active[e.AttackID], an)
		m.mu.Unlock()
		m.report(ctx, MitigationReport{AttackID: e.AttackID, Action: "announce", Route: describe(an), DryRun: m.dryRun})
		done = append(done, describe(an))
	}
	return done
}

func (m *bgpMitigation) blackholes() int {
	n := 0
	for _, an := range m.speaker.Announced() {
		if an.Kind == "blackhole" {
			n++
		}
	}
	return n
}

// ended withdraws attack id's announcements once the hold has passed.
func (m *bgpMitigation) ended(ctx context.Context, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.active[id]) == 0 || m.withdraw[id] != nil {
		return
	}
	hold := m.policy.Hold
	m.withdraw[id] = time.AfterFunc(hold, func() { m.withdrawAll(ctx, id) })
}

func (m *bgpMitigation) withdrawAll(ctx context.Context, id string) {
	m.mu.Lock()
	list := m.active[id]
	delete(m.active, id)
	delete(m.withdraw, id)
	m.mu.Unlock()
	for _, an := range list {
		if err := m.speaker.Withdraw(ctx, an); err != nil {
			m.report(ctx, MitigationReport{AttackID: id, Action: "failed", Route: describe(an), Error: err.Error()})
			continue
		}
		m.report(ctx, MitigationReport{AttackID: id, Action: "withdraw", Route: describe(an), DryRun: m.dryRun})
	}
}

// stop withdraws everything announced, reporting each withdrawal, when
// the agent stops cleanly (the speaker's Close then ends the sessions).
func (m *bgpMitigation) stop(ctx context.Context) {
	m.mu.Lock()
	ids := make([]string, 0, len(m.active))
	for id := range m.active {
		ids = append(ids, id)
	}
	for id, t := range m.withdraw {
		t.Stop()
		delete(m.withdraw, id)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, id := range ids {
		m.withdrawAll(ctx, id)
	}
}

// report tells the server, logging what cannot be sent (the audit is
// then in the agent's log).
func (m *bgpMitigation) report(ctx context.Context, r MitigationReport) {
	log := m.a.cfg.Log.Info
	if r.Action == "failed" || r.Action == "peer_down" {
		log = m.a.cfg.Log.Error
	}
	log("mitigation", "action", r.Action, "attack", r.AttackID, "route", r.Route, "peer", r.Peer, "error", r.Error, "dry_run", r.DryRun)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := m.a.cfg.Client.ReportMitigation(rctx, r); err != nil {
		m.a.cfg.Log.Warn("could not report mitigation to the server", "action", r.Action, "err", err)
	}
}

// bgpStep runs the policy on an attack's start or end; an announcement
// makes the attack mitigating, with what was announced in its event.
func (a *Agent) bgpStep(ctx context.Context, e sw.AttackEvent) {
	if e.Type == sw.EventEnded {
		a.bgp.ended(ctx, e.AttackID)
		return
	}
	done := a.bgp.started(ctx, e)
	if len(done) == 0 {
		return
	}
	err := a.detected(func(d *detect.Detector) []sw.AttackEvent {
		if ev := d.MarkMitigated(e.AttackID); ev != nil {
			ev.Mitigation = done
			return []sw.AttackEvent{*ev}
		}
		return nil
	})
	if err != nil {
		a.cfg.Log.Error("spool", "err", err)
	}
}

// PeerWatch turns BGP session states into reports: a session that comes
// up, one that was up and went down, and one that never came up within
// a grace period. The states a session passes through while it starts
// (idle, connect, active, open sent) are not failures.
type PeerWatch struct {
	client *Client
	log    *slog.Logger
	mu     sync.Mutex
	up     map[string]bool
	ever   map[string]bool
}

// NewPeerWatch watches peers, reporting through client; after grace, a
// peer that never came up is reported down.
func NewPeerWatch(ctx context.Context, client *Client, log *slog.Logger, peers []string, grace time.Duration) *PeerWatch {
	w := &PeerWatch{client: client, log: log, up: map[string]bool{}, ever: map[string]bool{}}
	time.AfterFunc(grace, func() {
		for _, p := range peers {
			w.mu.Lock()
			never := !w.ever[p]
			w.mu.Unlock()
			if never && ctx.Err() == nil {
				w.report(ctx, MitigationReport{Action: "peer_down", Peer: p, Error: fmt.Sprintf("BGP session not established %s after start", grace)})
			}
		}
	})
	return w
}

// Observe is bgpspeaker's PeerState callback.
func (w *PeerWatch) Observe(ctx context.Context, peer string, established bool, detail string) {
	w.mu.Lock()
	was := w.up[peer]
	w.up[peer] = established
	if established {
		w.ever[peer] = true
	}
	w.mu.Unlock()
	switch {
	case established && !was:
		w.report(ctx, MitigationReport{Action: "peer_up", Peer: peer})
	case !established && was:
		w.report(ctx, MitigationReport{Action: "peer_down", Peer: peer, Error: "BGP session " + detail})
	}
}

func (w *PeerWatch) report(ctx context.Context, r MitigationReport) {
	level := slog.LevelInfo
	if r.Action == "peer_down" {
		level = slog.LevelError
	}
	w.log.Log(ctx, level, "bgp session", "peer", r.Peer, "action", r.Action, "error", r.Error)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.client.ReportMitigation(rctx, r); err != nil {
		w.log.Warn("could not report the BGP session to the server", "err", err)
	}
}
