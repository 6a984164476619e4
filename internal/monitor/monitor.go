package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Applier runs the rules on a new signal event in the transaction that
// stored it (the incident automation).
type Applier interface {
	Apply(ctx context.Context, tx *store.Tx, ws string, node *sw.Node, e *sw.AttackEvent) error
}

// Monitor judges check results. It is safe for concurrent use.
type Monitor struct {
	auto Applier
	log  *slog.Logger
}

// New returns a monitor that hands its signals to auto (nil: record them
// only).
func New(auto Applier, log *slog.Logger) *Monitor { return &Monitor{auto: auto, log: log} }

// Observe stores one result of check k from location (a node id, or
// store.LocationServer) and, when that location's state changed, judges
// the check again, in tx.
func (m *Monitor) Observe(ctx context.Context, tx *store.Tx, ws string, k *sw.Check, location string, res *sw.CheckResult) error {
	changed, err := tx.RecordCheckResult(ctx, ws, k, location, res)
	if err != nil || !changed {
		return err
	}
	return m.Judge(ctx, tx, ws, k)
}

// Judge weighs check k's locations at tx's time: it opens or closes the
// outage span and raises, updates or ends the check's monitor_down signal,
// which the rules then judge like an attack.
func (m *Monitor) Judge(ctx context.Context, tx *store.Tx, ws string, k *sw.Check) error {
	now := tx.Now()
	locs, err := tx.CheckLocations(ctx, k.ID)
	if err != nil {
		return err
	}
	v := Judge(k, locs, now)
	if err := tx.SetOutage(ctx, k, v.Outage(), now); err != nil {
		return err
	}
	node, err := tx.ServerNode(ctx, ws)
	if err != nil {
		return err
	}
	open, err := tx.OpenMonitorSignal(ctx, ws, node.ID, k.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	facts := &sw.MonitorFacts{CheckID: k.ID, CheckName: k.Name, CheckType: k.Type, Locations: v.Down, Of: v.Of}
	var e *sw.AttackEvent
	switch {
	case open == nil && v.Down == 0:
		return nil
	case open == nil:
		e = signal(k, fmt.Sprintf("mon_%s_%d", k.ID, now.Unix()), 1, sw.EventStarted, now, now)
	case v.Down == 0:
		e = signal(k, open.ID, open.Seq+1, sw.EventEnded, open.StartedAt, now)
	case open.Monitor != nil && open.Monitor.Locations == v.Down && open.Monitor.Of == v.Of:
		return nil
	default:
		e = signal(k, open.ID, open.Seq+1, sw.EventUpdated, open.StartedAt, now)
	}
	e.Monitor, e.Severity = facts, string(v.Severity())
	e.Title, e.Reason = describe(k, locs, v)
	if v.Down == 0 {
		e.Severity = string(sw.SeverityLow)
		if open != nil {
			e.Severity = string(open.Severity)
		}
	}
	stored, err := tx.RecordAttackEvent(ctx, ws, node.ID, e)
	if err != nil || !stored || m.auto == nil {
		return err
	}
	return m.auto.Apply(ctx, tx, ws, node, e)
}

func signal(k *sw.Check, id string, seq int, typ string, started, at time.Time) *sw.AttackEvent {
	phase := sw.PhaseDetected
	var ended *time.Time
	if typ == sw.EventEnded {
		phase, ended = sw.PhaseEnded, &at
	}
	return &sw.AttackEvent{ID: fmt.Sprintf("%s-%d", id, seq), Type: typ, AttackID: id, Seq: seq, At: at, Target: k.Target,
		Phase: phase, Classification: sw.VectorMonitorDown, Confidence: 1,
		Vectors: []sw.Vector{{Type: sw.VectorMonitorDown, Proto: k.Type, Confidence: 1}}, StartedAt: started, EndedAt: ended}
}

// describe names the signal for operators: the check, the locations and
// what the failing ones saw.
func describe(k *sw.Check, locs []sw.CheckLocation, v Verdict) (title, reason string) {
	if v.Down == 0 {
		return fmt.Sprintf("Check %s is up again at every location", k.Name), ""
	}
	var why []string
	for _, l := range locs {
		if !l.Up {
			why = append(why, l.Location+": "+l.Error)
		}
	}
	title = fmt.Sprintf("Check %s (%s %s) down at %d of %d locations", k.Name, k.Type, k.Target, v.Down, v.Of)
	return sw.Truncate(title, sw.MaxTitleLen), sw.Truncate(strings.Join(why, "; "), 1000)
}

// Record stores a summary of runs (a heartbeat's, or the server's flush):
// the runs into the latency buckets, and the last one as the location's
// state, judging the check again if that changed it.
func (m *Monitor) Record(ctx context.Context, tx *store.Tx, ws string, k *sw.Check, location string, res *sw.CheckResult) error {
	if res.Runs > 0 {
		if err := tx.AddLatency(ctx, k.ID, res.At, res.Runs, res.Fails, res.LatencyMS*float64(res.Runs-res.Fails)); err != nil {
			return err
		}
	}
	return m.Observe(ctx, tx, ws, k, location, res)
}
