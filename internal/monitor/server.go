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
}

// NewServer returns a server-side runner probing with p.
func NewServer(st *store.Store, mon *Monitor, p *probe.Prober) *Server {
	s := &Server{st: st, mon: mon, Every: 10 * time.Second, checks: map[string]*sw.Check{}}
	s.runner = probe.NewRunner(p, s.changed)
	return s
}

// Run runs until ctx ends.
func (s *Server) Run(ctx context.Context) {
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

// Running is how many checks the server runs now.
func (s *Server) Running() int { return s.runner.Len() }

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

// changed records a change of state at once.
func (s *Server) changed(res sw.CheckResult) {
	k := s.check(res.CheckID)
	if k == nil {
		return
	}
	err := s.st.Tx(context.Background(), func(tx *store.Tx) error {
		return s.mon.Observe(context.Background(), tx, k.WorkspaceID, k, store.LocationServer, &res)
	})
	if err != nil {
		s.mon.log.Error("record check result", "check", k.ID, "err", err)
	}
}

// flush stores the runs since the last flush: latency buckets, and the
// location's latest result (which keeps it from going stale).
func (s *Server) flush(ctx context.Context) {
	for _, res := range s.runner.Drain() {
		k := s.check(res.CheckID)
		if k == nil {
			continue
		}
		err := s.st.Tx(ctx, func(tx *store.Tx) error {
			return s.mon.Record(ctx, tx, k.WorkspaceID, k, store.LocationServer, &res)
		})
		if err != nil && ctx.Err() == nil {
			s.mon.log.Error("record check results", "check", k.ID, "err", err)
		}
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
