package incident

import (
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

func TestPostmortemDraftFromTheAttack(t *testing.T) {
	start := time.Date(2026, 11, 28, 2, 14, 0, 0, time.UTC)
	end := start.Add(9 * time.Minute)
	resolved := end.Add(2 * time.Minute)
	inc := &sw.Incident{Title: "DDoS attack affecting EU game 01", Impact: sw.ImpactMajor, CreatedAt: start, ResolvedAt: &resolved,
		Components: []sw.IncidentComponent{{Name: "EU game 01"}},
		Updates: []sw.IncidentUpdate{{Status: sw.Resolved, Message: "Resolved.", CreatedAt: resolved},
			{Status: sw.Investigating, Message: "We are investigating an attack.", CreatedAt: start}}}
	atk := sw.Attack{Target: "203.0.113.7", StartedAt: start, EndedAt: &end, PeakPPS: 300_000, PeakBPS: 3_200_000_000,
		Vectors:  []sw.Vector{{Type: sw.VectorAmplification, Service: "dns"}},
		Timeline: []sw.AttackEvent{{Type: sw.EventMitigating, At: start.Add(40 * time.Second)}}}
	draft := PostmortemDraft(inc, []sw.Attack{atk}, time.UTC)
	for _, want := range []string{"**Affected:** EU game 01", "**Resolved:** Nov 28, 02:25 UTC (11m0s)", "Nov 28, 02:14 UTC: DNS amplification began, peaking at",
		"Nov 28, 02:14 UTC: mitigation was in place.", "it ended (9m0s in all)", "— Investigating: We are investigating an attack.", "## What we are changing"} {
		if !strings.Contains(draft, want) {
			t.Errorf("the draft lacks %q:\n%s", want, draft)
		}
	}
	if strings.Contains(draft, "203.0.113.7") {
		t.Error("the draft names the attacked address")
	}
	if strings.Index(draft, "Investigating:") > strings.Index(draft, "Resolved: Resolved.") {
		t.Error("the updates are not oldest first")
	}
}
