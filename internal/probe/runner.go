package probe

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Workers is how many checks a runner probes at once. A probe mostly
// waits (on a connect, a reply, a timeout), so many run side by side; a
// fixed pool keeps memory flat however many checks there are, where a
// goroutine per check grew by kilobytes each.
const Workers = 256

// Runner runs a set of checks, each every its interval, and keeps each
// check's state at this location: down after Failures consecutive
// failures, up at the first success. One scheduler hands due checks to a
// pool of Workers. It is safe for concurrent use.
type Runner struct {
	prober *Prober
	// onChange hears every change of state, and each check's first
	// state after it starts running here (so that a restarted location
	// corrects what the server last heard from it).
	onChange func(sw.CheckResult)

	mu      sync.Mutex
	jobs    map[string]*job
	queue   jobHeap
	stats   map[string]*sw.CheckResult
	wake    chan struct{}
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type job struct {
	check   sw.Check
	next    time.Time
	index   int  // in the heap; -1 while running or removed
	removed bool // replaced or dropped: its running probe's result is void
	// state at this location
	known, up bool
	fails     int
}

// NewRunner returns a runner that probes with p and tells onChange of
// state changes.
func NewRunner(p *Prober, onChange func(sw.CheckResult)) *Runner {
	return &Runner{prober: p, onChange: onChange, jobs: map[string]*job{}, stats: map[string]*sw.CheckResult{},
		wake: make(chan struct{}, 1)}
}

// Set makes the runner run exactly checks: new ones start at a random
// point of their first half-interval (so that many checks do not fire in
// step), removed ones stop, changed ones restart. The first call starts
// the runner under ctx.
func (r *Runner) Set(ctx context.Context, checks []sw.Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.started = true
		ctx, r.cancel = context.WithCancel(ctx)
		work := make(chan *job)
		r.wg.Go(func() { r.schedule(ctx, work) })
		for range Workers {
			r.wg.Go(func() { r.work(ctx, work) })
		}
	}
	now := time.Now()
	want := make(map[string]bool, len(checks))
	for i := range checks {
		c := checks[i]
		want[c.ID] = true
		if old, ok := r.jobs[c.ID]; ok {
			if old.check.UpdatedAt.Equal(c.UpdatedAt) {
				continue
			}
			r.drop(old)
		}
		j := &job{check: c, next: now.Add(rand.N(time.Duration(c.Interval)/2 + 1)), index: -1}
		r.jobs[c.ID] = j
		heap.Push(&r.queue, j)
	}
	for id, j := range r.jobs {
		if !want[id] {
			r.drop(j)
			delete(r.jobs, id)
			delete(r.stats, id)
		}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// drop takes j out of the schedule; a probe of it that is running
// finishes unheard.
func (r *Runner) drop(j *job) {
	j.removed = true
	if j.index >= 0 {
		heap.Remove(&r.queue, j.index)
	}
}

// Len is how many checks run.
func (r *Runner) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.jobs)
}

// Stop stops every check and waits for running probes to finish; a
// later Set starts the runner again.
func (r *Runner) Stop() {
	r.mu.Lock()
	if r.cancel != nil {
		r.cancel()
	}
	for id, j := range r.jobs {
		r.drop(j)
		delete(r.jobs, id)
	}
	r.started = false
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

// schedule hands each check to the workers when it is due.
func (r *Runner) schedule(ctx context.Context, work chan<- *job) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		var due *job
		wait := time.Hour
		if len(r.queue) > 0 {
			if d := time.Until(r.queue[0].next); d <= 0 {
				due = heap.Pop(&r.queue).(*job)
			} else {
				wait = d
			}
		}
		r.mu.Unlock()
		if due != nil {
			select {
			case work <- due:
			case <-ctx.Done():
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

func (r *Runner) work(ctx context.Context, work <-chan *job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-work:
			o := r.prober.Run(ctx, &j.check)
			if ctx.Err() != nil {
				return
			}
			r.finish(j, o)
		}
	}
}

// finish records a run, schedules the next and tells of a change.
func (r *Runner) finish(j *job, o Outcome) {
	c := &j.check
	r.mu.Lock()
	if j.removed {
		r.mu.Unlock()
		return
	}
	if o.OK {
		j.fails = 0
	} else {
		j.fails++
	}
	was, wasKnown := j.up, j.known
	switch {
	case o.OK:
		j.up, j.known = true, true
	case j.fails >= c.Failures:
		j.up, j.known = false, true
	}
	res := sw.CheckResult{CheckID: c.ID, At: time.Now(), OK: o.OK, LatencyMS: ms(o.Latency), Error: o.Err, Warning: o.Warning, Up: j.up}
	r.record(res)
	// The next run keeps to the check's rhythm, unless it ran so late
	// that the rhythm is lost.
	j.next = j.next.Add(time.Duration(c.Interval))
	if now := time.Now(); j.next.Before(now) {
		j.next = now
	}
	heap.Push(&r.queue, j)
	changed := j.known && (!wasKnown || was != j.up)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if changed && r.onChange != nil {
		r.onChange(res)
	}
}

// record adds a run to its check's summary; r.mu is held.
func (r *Runner) record(res sw.CheckResult) {
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

// jobHeap orders jobs by their next run.
type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*h = old[:len(old)-1]
	return j
}
