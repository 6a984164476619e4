package page

import (
	"math"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// UptimeDays is how many days the uptime bar shows.
const UptimeDays = 90

// Downtime weights per status: a major outage counts fully as downtime and
// a partial outage as 30 % of it, as Statuspage counts; degraded
// performance and maintenance do not count.
var downtimeWeight = map[sw.ComponentStatus]float64{sw.MajorOutage: 1, sw.PartialOutage: 0.3}

// Day is one day of a component's uptime bar.
type Day struct {
	Date time.Time // midnight in the page's time zone
	// Known is false for days before the component existed.
	Known bool
	// Worst is the worst status the component had that day.
	Worst sw.ComponentStatus
	// Uptime is the fraction of the known part of the day that was up.
	Uptime float64
	// Incidents are those that touched the component that day.
	Incidents []*sw.Incident
}

// Uptime is a component's 90-day record.
type Uptime struct {
	Days    []Day
	Percent float64 // over the known time of the window
}

// ComputeUptime derives a component's daily uptime over the UptimeDays days
// ending with now's day in loc, from what its checks measured (m, nil
// when it has no check) and, before its first check, its status history
// (time ordered; the first change may precede the window), with the
// incidents of the snapshot.
//
// It counts whole days, as Statuspage does from a component's start date:
// days before the day the component was made are no data and left out;
// every other day, the day it was made and today included, weighs a full
// day, so a 3-minute outage on a component made this morning is 99.8 %,
// not the share of the few minutes it has existed.
func ComputeUptime(c *sw.Component, history []sw.StatusChange, m *sw.Measured, incidents []sw.Incident, now time.Time, loc *time.Location) Uptime {
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	first := today.AddDate(0, 0, -(UptimeDays - 1))
	u := Uptime{Days: make([]Day, UptimeDays)}
	var knownTotal, downTotal float64
	for i := range u.Days {
		start := first.AddDate(0, 0, i)
		end := start.AddDate(0, 0, 1)
		d := Day{Date: start, Worst: sw.Operational}
		if c.CreatedAt.Before(end) {
			d.Known = true
			from, until := start, end
			if c.CreatedAt.After(from) {
				from = c.CreatedAt
			}
			if until.After(now) {
				until = now
			}
			day := end.Sub(start).Seconds() // 23 or 25 hours on a clock change
			down, worst := Downtime(history, m, from, until)
			d.Worst = worst
			d.Uptime = 1 - down/day
			knownTotal += day
			downTotal += down
		}
		for j := range incidents {
			if touches(&incidents[j], c.ID, start, start.AddDate(0, 0, 1), now) {
				d.Incidents = append(d.Incidents, &incidents[j])
			}
		}
		u.Days[i] = d
	}
	u.Percent = 100
	if knownTotal > 0 {
		u.Percent = 100 * (1 - downTotal/knownTotal)
	}
	return u
}

// Downtime is the weighted seconds a component was down in [from,
// until), and the worst status it showed: measured by its checks where it
// had any (m.Since on), from its status history before.
func Downtime(history []sw.StatusChange, m *sw.Measured, from, until time.Time) (float64, sw.ComponentStatus) {
	split := until
	if m != nil && m.Since.Before(until) {
		split = later(m.Since, from)
	}
	_, down, worst := segment(history, from, split)
	if split.Before(until) {
		_, _, w := segment(history, split, until)
		worst = sw.Worse(worst, w)
		measured := overlap(m.Down, split, until)
		if measured > 0 {
			// A check's outage shows on the bar even if nothing was
			// published for it.
			worst = sw.Worse(worst, sw.PartialOutage)
		}
		down += measured
	}
	return down, worst
}

// overlap is the seconds spans cover within [from, until).
func overlap(spans []sw.Span, from, until time.Time) float64 {
	var secs float64
	for _, s := range spans {
		end := until
		if s.End != nil && s.End.Before(until) {
			end = *s.End
		}
		start := later(s.Start, from)
		if end.After(start) {
			secs += end.Sub(start).Seconds()
		}
	}
	return secs
}

// segment walks the history over [from, end) and returns the seconds
// covered, the weighted seconds down, and the worst status seen.
func segment(history []sw.StatusChange, from, end time.Time) (known, down float64, worst sw.ComponentStatus) {
	worst = sw.Operational
	status := sw.Operational
	i := 0
	for ; i < len(history) && !history[i].At.After(from); i++ {
		status = history[i].Status
	}
	at := from
	for {
		next := end
		if i < len(history) && history[i].At.Before(end) {
			next = history[i].At
		}
		if next.After(at) {
			secs := next.Sub(at).Seconds()
			known += secs
			down += secs * downtimeWeight[status]
			worst = sw.Worse(worst, status)
		}
		if !next.Before(end) {
			return known, down, worst
		}
		status, at = history[i].Status, next
		i++
	}
}

// touches reports whether incident inc affected component id during
// [start, end).
func touches(inc *sw.Incident, id string, start, end, now time.Time) bool {
	until := now
	if inc.ResolvedAt != nil {
		until = *inc.ResolvedAt
	}
	if !inc.CreatedAt.Before(end) || until.Before(start) {
		return false
	}
	for _, c := range inc.Components {
		if c.ComponentID == id {
			return true
		}
	}
	return false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// MonthUptime is one component's uptime over a calendar month, for SLA
// reports.
type MonthUptime struct {
	Component string  `json:"component"` // slug
	Name      string  `json:"name"`
	Month     string  `json:"month"` // 2026-11
	Measured  bool    `json:"measured"`
	Percent   float64 `json:"uptime_percent"`
	// DowntimeSeconds is the weighted downtime; KnownSeconds the time
	// counted (whole days from the day the component was made, up to now
	// for the current month).
	DowntimeSeconds float64 `json:"downtime_seconds"`
	KnownSeconds    float64 `json:"known_seconds"`
	Days            int     `json:"days"`
}

// MonthlyUptime computes every component's uptime over the month that
// starts at month (midnight of its first day, in the page's time zone),
// from a snapshot whose history reaches back to it. It counts whole days
// as the bars do, and stops at the snapshot's time for the current month.
func MonthlyUptime(snap *sw.Snapshot, month time.Time) []MonthUptime {
	end := month.AddDate(0, 1, 0)
	out := make([]MonthUptime, 0, len(snap.Components))
	for i := range snap.Components {
		c := &snap.Components[i]
		m := MonthUptime{Component: c.Slug, Name: c.Name, Month: month.Format("2006-01"), Measured: snap.Measured[c.ID] != nil, Percent: 100}
		for day := month; day.Before(end) && day.Before(snap.Now); day = day.AddDate(0, 0, 1) {
			next := day.AddDate(0, 0, 1)
			if !c.CreatedAt.Before(next) {
				continue
			}
			from, until := later(day, c.CreatedAt), next
			if until.After(snap.Now) {
				until = snap.Now
			}
			down, _ := Downtime(snap.History[c.ID], snap.Measured[c.ID], from, until)
			m.DowntimeSeconds += down
			m.KnownSeconds += next.Sub(day).Seconds()
			m.Days++
		}
		if m.KnownSeconds > 0 {
			m.Percent = round4(100 * (1 - m.DowntimeSeconds/m.KnownSeconds))
		}
		m.DowntimeSeconds = math.Round(m.DowntimeSeconds)
		out = append(out, m)
	}
	return out
}
