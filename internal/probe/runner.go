package probe

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Runner runs a set of checks, each every its interval, and keeps each
// check's state at this location: down after Failures consecutive
// failures, up at the first success. It is safe for concurrent use.
type Runner struct {
	prober *Prober
	// onChange hears every change of state, and each check's first
	// state after it starts running here (so that a restarted location
	// corrects what the server last heard from it).
	onChange func(sw.CheckResult)

	mu    sync.Mutex
	jobs  map[string]*job
	stats map[string]*sw.CheckResult
	wg    sync.WaitGroup
}

type job struct {
	check  sw.Check
	cancel context.CancelFunc
}

// NewRunner returns a runner that probes with p and tells onChange of
// state changes.
func NewRunner(p *Prober, onChange func(sw.CheckResult)) *Runner {
	return &Runner{prober: p, onChange: onChange, jobs: map[string]*job{}, stats: map[string]*sw.CheckResult{}}
}

// Set makes the runner run exactly checks: new ones start (at a random
// point of their first interval, so that many checks do not fire in
// step), removed ones stop, changed ones restart.
func (r *Runner) Set(ctx context.Context, checks []sw.Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := make(map[string]bool, len(checks))
	for i := range checks {
		c := checks[i]
		want[c.ID] = true
		if j, ok := r.jobs[c.ID]; ok {
			if j.check.UpdatedAt.Equal(c.UpdatedAt) {
				continue
			}
			j.cancel()
		}
		jctx, cancel := context.WithCancel(ctx)
		r.jobs[c.ID] = &job{check: c, cancel: cancel}
		r.wg.Go(func() { r.loop(jctx, &c) })
	}
	for id, j := range r.jobs {
		if !want[id] {
			j.cancel()
			delete(r.jobs, id)
			delete(r.stats, id)
		}
	}
}

// Len is how many checks run.
func (r *Runner) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.jobs)
}

// Stop stops every check and waits for running probes to finish.
func (r *Runner) Stop() {
	r.mu.Lock()
	for id, j := range r.jobs {
		j.cancel()
		delete(r.jobs, id)
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Drain returns, per check, its runs since the last Drain: the last
// result, with Runs and Fails counted and LatencyMS averaged over the
// runs that passed.
func (r *Runner) Drain() []sw.CheckResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]sw.CheckResult, 0, len(r.stats))
	for id, s := range r.stats {
		out = append(out, *s)
		delete(r.stats, id)
	}
	return out
}

func (r *Runner) loop(ctx context.Context, c *sw.Check) {
	interval := time.Duration(c.Interval)
	select {
	case <-ctx.Done():
		return
	case <-time.After(rand.N(interval/2 + 1)):
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	known, up, fails := false, false, 0
	for {
		o := r.prober.Run(ctx, c)
		if ctx.Err() != nil {
			return
		}
		if o.OK {
			fails = 0
		} else {
			fails++
		}
		was, wasKnown := up, known
		switch {
		case o.OK:
			up, known = true, true
		case fails >= c.Failures:
			up, known = false, true
		}
		res := sw.CheckResult{CheckID: c.ID, At: time.Now(), OK: o.OK, LatencyMS: ms(o.Latency), Error: o.Err, Warning: o.Warning, Up: up}
		r.record(res)
		if known && (!wasKnown || was != up) && r.onChange != nil {
			r.onChange(res)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) record(res sw.CheckResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.jobs[res.CheckID]; !ok {
		return
	}
	s, ok := r.stats[res.CheckID]
	if !ok {
		s = &sw.CheckResult{}
		r.stats[res.CheckID] = s
	}
	runs, fails, okRuns := s.Runs+1, s.Fails, s.Runs-s.Fails
	sum := s.LatencyMS * float64(okRuns)
	if res.OK {
		sum += res.LatencyMS
		okRuns++
	} else {
		fails++
	}
	*s = res
	s.Runs, s.Fails = runs, fails
	if okRuns > 0 {
		s.LatencyMS = sum / float64(okRuns)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
