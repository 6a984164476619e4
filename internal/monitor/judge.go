// Package monitor turns check results into signals: it keeps each
// location's state, judges the locations together (how many agree that a
// check is down), raises, updates and ends the check's monitor_down
// signal for the rules to judge like an attack, keeps the outage spans
// that measured uptime counts, and runs the checks the server runs
// itself.
package monitor

import (
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Verdict is what the locations of a check say together.
type Verdict struct {
	Down, Of int // locations that find it down, of those reporting
}

// Stale is how long a location's last result counts: three intervals
// and a half-minute of slack for heartbeats and retries. A location
// silent longer (its agent stopped, the check moved) has no say.
func Stale(k *sw.Check) time.Duration {
	return 3*time.Duration(k.Interval) + 30*time.Second
}

// Judge counts the locations that reported within Stale of now and those
// of them that find the check down. It is pure.
func Judge(k *sw.Check, locs []sw.CheckLocation, now time.Time) Verdict {
	var v Verdict
	cutoff := now.Add(-Stale(k))
	for _, l := range locs {
		if l.ReportedAt.Before(cutoff) {
			continue
		}
		v.Of++
		if !l.Up {
			v.Down++
		}
	}
	return v
}

// Outage reports whether the verdict counts as downtime: more than half
// of the locations agree (every one of one or two).
func (v Verdict) Outage() bool { return v.Down > 0 && 2*v.Down > v.Of }

// Severity of the signal a verdict raises: critical when every location
// agrees, high when most do, low when fewer (a local problem of one
// location, which the default rules do not publish).
func (v Verdict) Severity() sw.Severity {
	switch {
	case v.Down == v.Of:
		return sw.SeverityCritical
	case v.Outage():
		return sw.SeverityHigh
	}
	return sw.SeverityLow
}
