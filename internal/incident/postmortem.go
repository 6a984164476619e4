package incident

import (
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/locale"
)

// PostmortemDraft writes a post-mortem for a person to finish: what the
// page said (the incident's timeline), and for an automatic incident
// what its signals recorded — when each started, its kind in public
// words, its peak, when mitigation began, when it ended. Addresses stay
// out; volumes are in, for the author to keep or cut. It is pure.
func PostmortemDraft(inc *sw.Incident, signals []sw.Attack, loc *time.Location) string {
	var b strings.Builder
	when := func(t time.Time) string { return t.In(loc).Format("Jan 2, 15:04 MST") }
	names := make([]string, len(inc.Components))
	for i, c := range inc.Components {
		names[i] = c.Name
	}
	fmt.Fprintf(&b, "## Summary\n\n_What happened, who was affected and for how long, in two or three sentences._\n\n")
	fmt.Fprintf(&b, "- **Affected:** %s\n", strings.Join(names, ", "))
	fmt.Fprintf(&b, "- **Started:** %s\n", when(inc.CreatedAt))
	if inc.ResolvedAt != nil {
		fmt.Fprintf(&b, "- **Resolved:** %s (%s)\n", when(*inc.ResolvedAt), inc.ResolvedAt.Sub(inc.CreatedAt).Round(time.Minute))
	}
	fmt.Fprintf(&b, "- **Impact:** %s\n", inc.Impact)
	if len(signals) > 0 {
		fmt.Fprintf(&b, "\n## What our systems recorded\n\n")
		for _, s := range signals {
			kind := publicAttack(&sw.AttackEvent{Vectors: s.Vectors, Monitor: s.Monitor, Classification: s.Classification}, locale.Or(locale.Default))
			fmt.Fprintf(&b, "- %s: %s began", when(s.StartedAt), capitalize(kind))
			if s.PeakPPS > 0 || s.PeakBPS > 0 {
				fmt.Fprintf(&b, ", peaking at %s", detect.FormatRate(s.PeakPPS, s.PeakBPS))
			}
			b.WriteString(".\n")
			for _, e := range s.Timeline {
				switch e.Type {
				case sw.EventMitigating:
					fmt.Fprintf(&b, "- %s: mitigation was in place.\n", when(e.At))
				case sw.EventSubsiding:
					fmt.Fprintf(&b, "- %s: it was subsiding.\n", when(e.At))
				}
			}
			if s.EndedAt != nil {
				fmt.Fprintf(&b, "- %s: it ended (%s in all).\n", when(*s.EndedAt), s.EndedAt.Sub(s.StartedAt).Round(time.Second))
			}
		}
	}
	fmt.Fprintf(&b, "\n## What we told you\n\n")
	for i := len(inc.Updates) - 1; i >= 0; i-- {
		u := inc.Updates[i]
		fmt.Fprintf(&b, "- %s — %s: %s\n", when(u.CreatedAt), sw.StatusLabel(string(u.Status)), u.Message)
	}
	fmt.Fprintf(&b, "\n## What we are changing\n\n_The follow-ups that keep this from happening again._\n")
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
