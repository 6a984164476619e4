package page

import (
	"math"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

func TestComputeUptime(t *testing.T) {
	now := time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -n) }
	old := &sw.Component{ID: "cmp_1", CreatedAt: now.AddDate(-1, 0, 0)}
	tests := []struct {
		name        string
		comp        *sw.Component
		history     []sw.StatusChange
		measured    *sw.Measured
		wantPercent float64
		checkDay    int // index into Days
		wantWorst   sw.ComponentStatus
		wantUptime  float64
		wantKnown   bool
	}{
		{"never down", old, []sw.StatusChange{{Status: sw.Operational, At: old.CreatedAt}}, nil, 100, 89, sw.Operational, 1, true},
		{"six hours major outage yesterday", old, []sw.StatusChange{
			{Status: sw.Operational, At: old.CreatedAt},
			{Status: sw.MajorOutage, At: day(1).Add(6 * time.Hour)},
			{Status: sw.Operational, At: day(1).Add(12 * time.Hour)},
		}, nil, 100 * (1 - 6.0/(90*24)), 88, sw.MajorOutage, 0.75, true},
		{"partial outage weighs 30%", old, []sw.StatusChange{
			{Status: sw.Operational, At: old.CreatedAt},
			{Status: sw.PartialOutage, At: day(2)},
			{Status: sw.Operational, At: day(1)},
		}, nil, 100 * (1 - 0.3*24/(90*24)), 87, sw.PartialOutage, 0.7, true},
		{"degraded is up", old, []sw.StatusChange{
			{Status: sw.DegradedPerformance, At: day(3)},
		}, nil, 100, 89, sw.DegradedPerformance, 1, true},
		{"created today", &sw.Component{ID: "cmp_2", CreatedAt: day(0).Add(6 * time.Hour)}, []sw.StatusChange{
			{Status: sw.Operational, At: day(0).Add(6 * time.Hour)},
		}, nil, 100, 88, sw.Operational, 0, false},
		{"outage still going", old, []sw.StatusChange{
			{Status: sw.MajorOutage, At: day(0)},
		}, nil, 100 * (1 - 12.0/(90*24)), 89, sw.MajorOutage, 0.5, true},
		// Whole days from the day it was made: a 3-minute outage on a
		// component made this morning is about 99.8 %, not 7 %.
		{"three minutes down on the day it was made", &sw.Component{ID: "cmp_3", CreatedAt: day(0).Add(11*time.Hour + 54*time.Minute)}, []sw.StatusChange{
			{Status: sw.Operational, At: day(0).Add(11*time.Hour + 54*time.Minute)},
			{Status: sw.MajorOutage, At: day(0).Add(11*time.Hour + 55*time.Minute)},
			{Status: sw.Operational, At: day(0).Add(11*time.Hour + 58*time.Minute)},
		}, nil, 100 * (1 - 3.0/1440), 89, sw.MajorOutage, 1 - 3.0/1440, true},
		// Measured: a component made today whose checks found it down 3
		// minutes, with nothing published, is 99.79 % today.
		{"checks measured three minutes down today", &sw.Component{ID: "cmp_4", CreatedAt: day(0).Add(9 * time.Hour)}, nil,
			&sw.Measured{Since: day(0).Add(9 * time.Hour), Down: []sw.Span{{Start: day(0).Add(10 * time.Hour), End: ptr(day(0).Add(10*time.Hour + 3*time.Minute))}}},
			100 * (1 - 3.0/1440), 89, sw.PartialOutage, 1 - 3.0/1440, true},
		// Checks measure what they measure: an incident that said major
		// outage for six hours while the checks passed is not downtime
		// once the component is checked; before that it is.
		{"checks outrank the status once they exist", old, []sw.StatusChange{
			{Status: sw.MajorOutage, At: day(2)},
			{Status: sw.Operational, At: day(2).Add(6 * time.Hour)},
			{Status: sw.MajorOutage, At: day(1)},
			{Status: sw.Operational, At: day(1).Add(6 * time.Hour)},
		}, &sw.Measured{Since: day(1).Add(-time.Hour)}, 100 * (1 - 6.0/(90*24)), 88, sw.MajorOutage, 1, true},
		{"an outage still measured", old, nil, &sw.Measured{Since: day(5), Down: []sw.Span{{Start: day(0).Add(6 * time.Hour)}}},
			100 * (1 - 6.0/(90*24)), 89, sw.PartialOutage, 0.75, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ComputeUptime(tt.comp, tt.history, tt.measured, nil, now, time.UTC)
			if len(u.Days) != UptimeDays {
				t.Fatalf("%d days", len(u.Days))
			}
			if math.Abs(u.Percent-tt.wantPercent) > 1e-9 {
				t.Errorf("percent = %v, want %v", u.Percent, tt.wantPercent)
			}
			d := u.Days[tt.checkDay]
			if d.Worst != tt.wantWorst || math.Abs(d.Uptime-tt.wantUptime) > 1e-9 || d.Known != tt.wantKnown {
				t.Errorf("day %d = %+v, want worst %s uptime %v known %v", tt.checkDay, d, tt.wantWorst, tt.wantUptime, tt.wantKnown)
			}
		})
	}
}

func TestUptimeDaysFollowTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	now := time.Date(2026, 6, 7, 23, 30, 0, 0, time.UTC) // already June 8 in Berlin
	c := &sw.Component{ID: "c", CreatedAt: now.AddDate(0, -6, 0)}
	inc := sw.Incident{CreatedAt: now.Add(-10 * time.Minute), Components: []sw.IncidentComponent{{ComponentID: "c"}}}
	u := ComputeUptime(c, nil, nil, []sw.Incident{inc}, now, berlin)
	last := u.Days[UptimeDays-1]
	if last.Date.Day() != 8 || last.Date.Location() != berlin || len(last.Incidents) != 1 {
		t.Fatalf("last day = %v with %d incidents, want June 8 in Berlin with 1", last.Date, len(last.Incidents))
	}
}

func ptr[T any](v T) *T { return &v }
