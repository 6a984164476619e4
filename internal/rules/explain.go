package rules

import (
	"fmt"
	"strings"
)

// Explain says in words what a decision is and which rules made it.
func Explain(d Decision) string {
	var b strings.Builder
	switch {
	case d.Decided == nil:
		b.WriteString("do not publish: no rule about publication matches")
	case d.Publish == PublishAfter:
		fmt.Fprintf(&b, "publish after %s if the attack is still going (line %d: %s)", d.After, d.Decided.Line, d.Decided.Text)
	default:
		fmt.Fprintf(&b, "%s (line %d: %s)", d.Publish, d.Decided.Line, d.Decided.Text)
	}
	fmt.Fprintf(&b, "\ncomponent status %s, incident impact %s", d.Status, d.Impact)
	for _, r := range d.Escalated {
		fmt.Fprintf(&b, "\nescalated by line %d: %s", r.Line, r.Text)
	}
	return b.String()
}
