package monitor

import (
	"context"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/probe"
	"github.com/stormwatch/stormwatch/internal/store"
)

// LatencyRetention is how long the response-time buckets are kept.
const LatencyRetention = 30 * 24 * time.Hour

// Server runs the checks that name no node from the server itself, and
// judges every open signal again as time passes (a location that stops
// reporting loses its say). Run it on one replica (store.Lead).
type Server struct {
	st     *store.Store
	mon    *Monitor
	runner *probe.Runner
	// Every is how often checks are reloaded and results stored.
	Every time.Duration

	mu     sync.Mutex
	checks map[string]*sw.Check // by id, as last loaded
	// changes carries changes of state from the probes to the writer,
	// which stores them in batches: one transaction for many, so that
	// thousands of checks changing at once (a network outage, a start)
	// cost a few commits.
	changes chan sw.CheckResult
	done    <-chan struct{} // the running Run's end
}

// batch bounds the results stored in one transaction.
const batch = 500

// NewServer returns a server-side runner probing with p.
func NewServer(st *store.Store, mon *Monitor, p *probe.Prober) *Server {
	s := &Server{st: st, mon: mon, Every: 10 * time.Second, checks: map[string]*sw.Check{}, changes: make(chan sw.CheckResult, batch)}
	s.runner = probe.NewRunner(p, s.changed)
	return s
}

// Run runs until ctx ends.
func (s *Server) Run(ctx context.Context) {
	s.mu.Lock()
	s.done = ctx.Done()
	s.mu.Unlock()
	var writer sync.WaitGroup
	writer.Go(func() { s.write(ctx) })
	defer writer.Wait()
	defer s.runner.Stop()
	t := time.NewTicker(s.Every)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if err := s.reload(ctx); err != nil && ctx.Err() == nil {
			s.mon.log.Error("load server checks", "err", err)
		}
		s.flush(ctx)
		if err := s.rejudge(ctx); err != nil && ctx.Err() == nil {
			s.mon.log.Error("judge checks", "err", err)
		}
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if err := s.st.Tx(ctx, func(tx *store.Tx) error { return tx.PruneLatency(ctx, time.Now().Add(-LatencyRetention)) }); err != nil && ctx.Err() == nil {
				s.mon.log.Error("prune check latency", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) reload(ctx context.Context) error {
	checks, err := s.st.ServerChecks(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*sw.Check, len(checks))
	for i := range checks {
		byID[checks[i].ID] = &checks[i]
	}
	s.mu.Lock()
	s.checks = byID
	s.mu.Unlock()
	s.runner.Set(ctx, checks)
	return nil
}

func (s *Server) check(id string) *sw.Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks[id]
}

// changed hands a change of state to the writer (waiting while it is
// behind: the probes slow down rather than lose a change), until Run
// ends.
func (s *Server) changed(res sw.CheckResult) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	select {
	case s.changes <- res:
	case <-done:
	}
}

// write stores changes of state as they come, each batch in one
// transaction.
func (s *Server) write(ctx context.Context) {
	for {
		var first sw.CheckResult
		select {
		case <-ctx.Done():
			return
		case first = <-s.changes:
		}
		results := []sw.CheckResult{first}
	more:
		for len(results) < batch {
			select {
			case res := <-s.changes:
				results = append(results, res)
			default:
				break more
			}
		}
		s.store(ctx, results, false)
	}
}

// flush stores the runs since the last flush: latency buckets, and the
// location's latest result (which keeps it from going stale).
func (s *Server) flush(ctx context.Context) {
	results := s.runner.Drain()
	for len(results) > 0 {
		n := min(batch, len(results))
		s.store(ctx, results[:n], true)
		results = results[n:]
	}
}

// store records results in one transaction: summaries of runs (runs
// true) or changes of state.
func (s *Server) store(ctx context.Context, results []sw.CheckResult, runs bool) {
	err := s.st.Tx(ctx, func(tx *store.Tx) error {
		for i := range results {
			k := s.check(results[i].CheckID)
			if k == nil {
				continue // deleted since
			}
			var err error
			if runs {
				err = s.mon.Record(ctx, tx, k.WorkspaceID, k, store.LocationServer, &results[i])
			} else {
				err = s.mon.Observe(ctx, tx, k.WorkspaceID, k, store.LocationServer, &results[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.mon.log.Error("record check results", "results", len(results), "err", err)
	}
}

// rejudge weighs again every check whose signal is open.
func (s *Server) rejudge(ctx context.Context) error {
	refs, err := s.st.ChecksSignalling(ctx)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		err := s.st.Tx(ctx, func(tx *store.Tx) error {
			k, err := tx.Check(ctx, ref.Workspace, ref.ID)
			if err != nil {
				return err
			}
			return s.mon.Judge(ctx, tx, ref.Workspace, k)
		})
		if err != nil && ctx.Err() == nil {
			s.mon.log.Error("judge check", "check", ref.ID, "err", err)
		}
	}
	return nil
}
