// Package delivery sends what the outbox holds: it fans each notification
// event out to its subscribers, then posts the webhooks and mails, with
// retries, a delivery log and leases that make a crash cost at most a
// repeat under the same delivery id, never a lost message.
package delivery

import (
	"math"
	"time"
)

// Retry is the retry schedule: exponential from Base, capped at Max
// between attempts, with ±Jitter of each wait, for up to GiveUp after the
// delivery was made.
type Retry struct {
	Base, Max, GiveUp time.Duration
	Jitter            float64
}

// DefaultRetry retries after about 5 s, 10 s, 20 s … then hourly, for a day.
var DefaultRetry = Retry{Base: 5 * time.Second, Max: time.Hour, GiveUp: 24 * time.Hour, Jitter: 0.2}

// Next is when to try again after failed attempt number attempt (1 is the
// first) of a delivery made at created, at now; ok false means give up.
// rnd is a number in [0, 1), so that tests choose the jitter.
func (r Retry) Next(attempt int, created, now time.Time, rnd float64) (time.Time, bool) {
	if now.Sub(created) >= r.GiveUp {
		return time.Time{}, false
	}
	wait := float64(r.Base) * math.Pow(2, float64(max(attempt-1, 0)))
	wait = min(wait, float64(r.Max))
	wait *= 1 + r.Jitter*(2*rnd-1)
	next := now.Add(time.Duration(wait))
	if deadline := created.Add(r.GiveUp); next.After(deadline) {
		next = deadline // one last try when the day is up
	}
	return next, true
}
