package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/mitigation"
	"github.com/stormwatch/stormwatch/internal/pcapring"
	"github.com/stormwatch/stormwatch/internal/probe"
)

// Mitigation is what the agent does when an attack starts: run a command
// with the event as JSON on stdin, and/or POST the event to a URL. A
// success is reported to the server as attack.mitigating.
type Mitigation struct {
	Command []string
	URL     string
	Timeout time.Duration
}

func (m Mitigation) enabled() bool { return len(m.Command) > 0 || m.URL != "" }

// Config is what an agent runs with.
type Config struct {
	Detect     detect.Settings
	Source     Source
	Spool      *Spool
	Client     *Client
	Heartbeat  time.Duration
	Mitigation Mitigation
	Log        *slog.Logger
	Version    string
	// Declared are checks this node declares (from its YAML file): the
	// server adds them, run from this node, with each heartbeat.
	Declared []sw.Check
	// ExitWhenDone makes Run return once a finite source (a replay) has
	// ended and every event reached the server.
	ExitWhenDone bool
	// Ring, when set, keeps the last seconds of packet headers (the
	// source must feed it: PcapSource.Tap, capture.Live.Tap); each attack
	// leaves a pcapng of the frames around its onset, uploaded with it.
	Ring *pcapring.Ring
	// CaptureAfter is how much after the onset the capture keeps
	// (default DefaultCaptureAfter).
	CaptureAfter time.Duration
	// BGP, when set, announces mitigations upstream by Policy when
	// attacks start and withdraws them after they ended and Policy.Hold
	// passed (the speaker's owner closes it, withdrawing the rest).
	BGP       Announcer
	BGPPolicy mitigation.Policy
	BGPDryRun bool
}

// Agent runs detection on one source and reports to the server.
type Agent struct {
	cfg Config
	mu  sync.Mutex // guards det and shift
	det *detect.Detector
	// shift moves a replay's events from the capture's clock to the wall
	// clock (its first packet is now), so that the server judges
	// durations and ages as if the capture were happening; zero for live
	// sources.
	shift    time.Duration
	shiftSet bool
	notify   chan struct{}
	wg       sync.WaitGroup
	// checks runs the checks the server gives this node.
	checks *probe.Runner
	// runCtx is Run's context, for the work events start.
	runCtx context.Context
	// sourceEnded closes when the source has nothing more (a replay's
	// end); uploads wakes the capture uploader; captures counts the
	// captures being kept.
	sourceEnded chan struct{}
	uploads     chan struct{}
	captures    sync.WaitGroup
	bgp         *bgpMitigation
}

// New returns an agent; Run starts it.
func New(cfg Config) *Agent {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.Mitigation.Timeout <= 0 {
		cfg.Mitigation.Timeout = 30 * time.Second
	}
	if cfg.CaptureAfter <= 0 {
		cfg.CaptureAfter = DefaultCaptureAfter
	}
	a := &Agent{cfg: cfg, det: detect.New(cfg.Detect), notify: make(chan struct{}, 1), sourceEnded: make(chan struct{}),
		uploads: make(chan struct{}, 1), runCtx: context.Background()}
	a.checks = probe.NewRunner(&probe.Prober{}, a.checkChanged)
	if cfg.BGP != nil {
		a.bgp = &bgpMitigation{a: a, speaker: cfg.BGP, policy: cfg.BGPPolicy, dryRun: cfg.BGPDryRun,
			active: map[string][]mitigation.Announcement{}, withdraw: map[string]*time.Timer{}}
	}
	return a
}

// checkChanged spools a check's change of state at this node, durably,
// like an attack event: the server hears of it even across an outage.
func (a *Agent) checkChanged(res sw.CheckResult) {
	typ := sw.EventMonitorDown
	if res.Up {
		typ = sw.EventMonitorUp
	}
	e := sw.AttackEvent{ID: fmt.Sprintf("%s-%d", res.CheckID, res.At.UnixNano()), Type: typ, At: res.At, Check: &res}
	a.mu.Lock()
	err := a.cfg.Spool.Append(e)
	a.mu.Unlock()
	if err != nil {
		a.cfg.Log.Error("spool", "err", err)
		return
	}
	a.cfg.Log.Info("check state", "check", res.CheckID, "up", res.Up, "error", res.Error)
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// Run captures, detects and reports until ctx ends (or, with ExitWhenDone,
// until a finite source is fully reported). Every goroutine it starts has
// stopped when it returns.
func (a *Agent) Run(ctx context.Context) error {
	// Deferred calls run last first: cancel, then wait for the goroutines.
	defer a.wg.Wait()
	defer a.checks.Stop()
	if a.bgp != nil {
		defer a.bgp.stop(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	a.runCtx = ctx
	a.mu.Unlock()

	sourceDone := make(chan error, 1)
	sendDone := make(chan struct{})
	a.wg.Go(func() {
		defer close(sendDone)
		a.send(ctx, sourceDone)
	})
	a.wg.Go(func() { a.heartbeats(ctx) })
	if a.cfg.Ring != nil {
		a.wg.Go(func() { a.uploadCaptures(ctx) })
	}
	if a.cfg.Source.Live() {
		a.wg.Go(func() { a.clock(ctx) })
	}
	err := a.cfg.Source.Run(ctx, a.observe)
	close(a.sourceEnded)
	if err == nil && !a.cfg.Source.Live() {
		// The capture ended: let its time run on until every attack in it
		// has ended, so a replay reports whole lifecycles.
		if ps, ok := a.cfg.Source.(*PcapSource); ok && !ps.Last.IsZero() {
			a.detected(func(d *detect.Detector) []sw.AttackEvent {
				return d.Flush(ps.Last.Add(a.cfg.Detect.HoldDown + a.cfg.Detect.Reonset + 2*time.Second))
			})
		}
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("source %s: %w", a.cfg.Source.Name(), err)
	}
	if !a.cfg.ExitWhenDone {
		<-ctx.Done()
		return nil
	}
	sourceDone <- nil
	select {
	case <-sendDone:
	case <-ctx.Done():
	}
	a.finishCaptures(ctx)
	return nil
}

// finishCaptures waits, before a replay's agent exits, for the captures
// being kept and their upload (for a while: they stay on disk for the
// next run otherwise).
func (a *Agent) finishCaptures(ctx context.Context) {
	if a.cfg.Ring == nil {
		return
	}
	a.captures.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for a.uploadWaiting(ctx) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
	}
}

// observe runs detection on a batch and spools the events it caused.
func (a *Agent) observe(batch []detect.Packet) error {
	if !a.cfg.Source.Live() && len(batch) > 0 {
		a.mu.Lock()
		if !a.shiftSet {
			a.shift, a.shiftSet = time.Since(batch[0].At), true
		}
		a.mu.Unlock()
	}
	return a.detected(func(d *detect.Detector) []sw.AttackEvent {
		var out []sw.AttackEvent
		for i := range batch {
			out = append(out, d.Observe(&batch[i])...)
		}
		return out
	})
}

// detected runs f on the detector and spools (durably) what it returns,
// before anything else may happen: an event is on disk before it is sent.
func (a *Agent) detected(f func(*detect.Detector) []sw.AttackEvent) error {
	a.mu.Lock()
	events := f(a.det)
	if a.shift != 0 {
		for i := range events {
			shiftEvent(&events[i], a.shift)
		}
	}
	var err error
	if len(events) > 0 {
		err = a.cfg.Spool.Append(events...)
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	for _, e := range events {
		a.cfg.Log.Info("attack event", "type", e.Type, "attack", e.AttackID, "target", e.Target, "severity", e.Severity,
			"classification", e.Classification, "title", e.Title)
		if e.Type == sw.EventStarted && e.Seq == 1 && a.cfg.Mitigation.enabled() {
			e := e
			a.wg.Go(func() { a.mitigate(e) })
		}
		if a.bgp != nil && (e.Type == sw.EventStarted || e.Type == sw.EventEnded) {
			e := e
			a.mu.Lock()
			ctx := a.runCtx
			a.mu.Unlock()
			a.wg.Go(func() { a.bgpStep(ctx, e) })
		}
		if e.Type == sw.EventStarted && e.Seq == 1 && a.cfg.Ring != nil && e.Target != "" {
			e := e
			a.mu.Lock()
			ctx := a.runCtx
			a.mu.Unlock()
			// The frames before the onset are taken now, on the capture's
			// goroutine: a fast replay would overwrite them before the
			// capture's own goroutine looks.
			before := a.framesBefore(e)
			a.captures.Add(1)
			a.wg.Go(func() {
				defer a.captures.Done()
				a.keepCapture(ctx, e, before)
			})
		}
	}
	if len(events) > 0 {
		select {
		case a.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

// shiftEvent moves an event's times by d.
func shiftEvent(e *sw.AttackEvent, d time.Duration) {
	e.At, e.StartedAt = e.At.Add(d), e.StartedAt.Add(d)
	if e.EndedAt != nil {
		end := e.EndedAt.Add(d)
		e.EndedAt = &end
	}
}

// clock closes ticks as wall time passes, for live sources.
func (a *Agent) clock(ctx context.Context) {
	t := time.NewTicker(detect.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := a.detected(func(d *detect.Detector) []sw.AttackEvent { return d.Flush(now) }); err != nil {
				a.cfg.Log.Error("spool", "err", err)
			}
		}
	}
}

// mitigate runs the configured actions for an attack and reports success.
func (a *Agent) mitigate(e sw.AttackEvent) {
	body, _ := json.Marshal(e)
	ok := true
	if len(a.cfg.Mitigation.Command) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Mitigation.Timeout)
		cmd := exec.CommandContext(ctx, a.cfg.Mitigation.Command[0], a.cfg.Mitigation.Command[1:]...)
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			ok = false
			a.cfg.Log.Error("mitigation command failed", "attack", e.AttackID, "err", err, "output", string(out))
		}
	}
	if a.cfg.Mitigation.URL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Mitigation.Timeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.Mitigation.URL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			var res *http.Response
			if res, err = http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode >= 300 {
					err = fmt.Errorf("answered %d", res.StatusCode)
				}
			}
		}
		cancel()
		if err != nil {
			ok = false
			a.cfg.Log.Error("mitigation URL failed", "attack", e.AttackID, "err", err)
		}
	}
	if !ok {
		return
	}
	err := a.detected(func(d *detect.Detector) []sw.AttackEvent {
		if ev := d.MarkMitigated(e.AttackID); ev != nil {
			return []sw.AttackEvent{*ev}
		}
		return nil
	})
	if err != nil {
		a.cfg.Log.Error("spool", "err", err)
	}
}

// send delivers the spool to the server in order, retrying with backoff.
func (a *Agent) send(ctx context.Context, sourceDone <-chan error) {
	backoff := time.Duration(0)
	done := false
	failing := false
	for {
		events, offset, err := a.cfg.Spool.Peek(100)
		if err != nil {
			a.cfg.Log.Error("read spool", "err", err)
			return
		}
		if len(events) == 0 {
			if done {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-a.notify:
			case <-sourceDone:
				done = true
			case <-time.After(time.Second):
			}
			continue
		}
		_, _, err = a.cfg.Client.SendEvents(ctx, events)
		switch {
		case err == nil:
			if failing {
				a.cfg.Log.Info("server reachable again; spool draining", "pending", a.cfg.Spool.Pending())
			}
			failing, backoff = false, 0
			if err := a.cfg.Spool.Ack(offset); err != nil {
				a.cfg.Log.Error("ack spool", "err", err)
				return
			}
			continue
		case IsPermanent(err):
			a.cfg.Log.Error("server refused events; kept in rejected.log", "count", len(events), "err", err)
			if rerr := a.cfg.Spool.Reject(events, err.Error()); rerr != nil {
				a.cfg.Log.Error("keep rejected events", "err", rerr)
				return
			}
			if err := a.cfg.Spool.Ack(offset); err != nil {
				a.cfg.Log.Error("ack spool", "err", err)
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if !failing {
			a.cfg.Log.Warn("cannot reach the server; events stay in the spool", "pending", a.cfg.Spool.Pending(), "err", err)
			failing = true
		}
		backoff = nextBackoff(backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// nextBackoff doubles from 200 ms to 30 s, with ±20 % jitter so that many
// agents do not retry in step.
func nextBackoff(d time.Duration) time.Duration {
	switch {
	case d == 0:
		d = 200 * time.Millisecond
	case d < 30*time.Second:
		d *= 2
	}
	d = min(d, 30*time.Second)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// heartbeats reports the traffic summary every interval.
func (a *Agent) heartbeats(ctx context.Context) {
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	for {
		a.mu.Lock()
		s := a.det.Summary()
		a.mu.Unlock()
		hb := sw.Heartbeat{AgentVersion: a.cfg.Version, Source: a.cfg.Source.Name(), PPS: s.PPS, BPS: s.BPS, Hosts: s.Hosts,
			ActiveAttacks: s.ActiveAttacks, SpoolBacklog: a.cfg.Spool.Pending()}
		checks, policy, err := a.cfg.Client.SendHeartbeat(ctx, Beat{Heartbeat: hb, Checks: a.checks.Drain(), Declared: a.cfg.Declared})
		switch {
		case err != nil && ctx.Err() == nil:
			a.cfg.Log.Debug("heartbeat", "err", err)
		case err == nil && checks != nil:
			if n := a.checks.Len(); n != len(checks) {
				a.cfg.Log.Info("checks to run", "count", len(checks))
			}
			a.checks.Set(ctx, checks)
		}
		if err == nil && a.bgp != nil {
			a.bgp.serverPolicy(policy)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
