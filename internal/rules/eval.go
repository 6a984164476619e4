package rules

import (
	"path"
	"regexp"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Facts are what the evaluator knows of an attack, for one component it
// affects.
type Facts struct {
	Severity          sw.Severity
	Duration          time.Duration // since the attack started, by the caller's clock
	Classification    string        // the main vector, as "dns_amplification"
	Vectors           []string      // every vector
	BPS, PPS          uint64        // peak rates
	Node              string        // the reporting node's name
	Component         string        // the component's slug
	DuringMaintenance bool
	// Locations is how many locations agree a check is down (1 for an
	// attack, which one node reports); Check names the failing check.
	Locations int
	Check     string
}

// Decision is what the rules say for an attack and a component.
type Decision struct {
	Publish Publication
	After   time.Duration // with PublishAfter
	// Status is what the incident gives the component; Impact is the
	// incident's. Both start from the severity and rise with escalations.
	Status sw.ComponentStatus
	Impact sw.Impact
	// Decided is the rule that chose the publication; nil when no rule
	// matched, which means do not publish.
	Decided *Rule
	// Escalated are the escalation rules that matched.
	Escalated                []*Rule
	Title, Message, Template string
	// Titles and Messages are the rule's texts in other languages.
	Titles, Messages map[string]string
}

// baseline is what an attack of each severity means before escalations.
func baseline(s sw.Severity) (sw.ComponentStatus, sw.Impact) {
	switch s {
	case sw.SeverityCritical:
		return sw.MajorOutage, sw.ImpactCritical
	case sw.SeverityHigh:
		return sw.PartialOutage, sw.ImpactMajor
	}
	return sw.DegradedPerformance, sw.ImpactMinor
}

var impactRank = map[sw.Impact]int{sw.ImpactNone: 0, sw.ImpactMinor: 1, sw.ImpactMajor: 2, sw.ImpactCritical: 3}

// Evaluate applies the rule set to an attack's facts. It is pure.
//
// Publication: the rules scoped to the component (component "glob": …)
// are considered first; if any of them matches, the most eager
// publication among them decides (publish immediately, then the shortest
// publish after, then draft, then observe, then do not publish; the
// earlier line on a tie). Only when none of them matches do the
// workspace's unscoped rules decide, the same way. No match: do not
// publish. Escalations: every matching escalation rule, at either level,
// applies; the component gets the worst status and the incident the
// highest impact among them and the severity's own.
func Evaluate(s *Set, f Facts) Decision {
	d := Decision{Publish: PublishNever}
	d.Status, d.Impact = baseline(f.Severity)
	for _, scoped := range []bool{true, false} {
		if d.Decided != nil {
			break
		}
		for i := range s.Rules {
			r := &s.Rules[i]
			if (r.Component != "") != scoped || r.Action.Publish == PublishUnset {
				continue
			}
			if scoped && !glob(r.Component, f.Component) {
				continue
			}
			if !holds(r.Cond, &f) {
				continue
			}
			if d.Decided == nil || eager(r.Action, d.Decided.Action) {
				d.Decided = r
			}
		}
	}
	if d.Decided != nil {
		a := d.Decided.Action
		d.Publish, d.After, d.Title, d.Message, d.Template = a.Publish, a.After, a.Title, a.Message, a.Template
		d.Titles, d.Messages = a.Titles, a.Messages
	}
	explicitImpact := false
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.Action.Status == "" && r.Action.Impact == "" {
			continue
		}
		if r.Component != "" && !glob(r.Component, f.Component) || !holds(r.Cond, &f) {
			continue
		}
		d.Escalated = append(d.Escalated, r)
		if r.Action.Status != "" {
			d.Status = sw.Worse(d.Status, r.Action.Status)
		}
		if r.Action.Impact != "" {
			explicitImpact = true
		}
		if impactRank[r.Action.Impact] > impactRank[d.Impact] {
			d.Impact = r.Action.Impact
		}
	}
	// A component escalated to a worse status raises the incident's
	// impact with it, unless a matching rule names the impact itself.
	if !explicitImpact {
		if i := statusImpact[d.Status]; impactRank[i] > impactRank[d.Impact] {
			d.Impact = i
		}
	}
	return d
}

// statusImpact is the impact a component status calls for, as the page's
// banner reads it.
var statusImpact = map[sw.ComponentStatus]sw.Impact{sw.DegradedPerformance: sw.ImpactMinor,
	sw.PartialOutage: sw.ImpactMajor, sw.MajorOutage: sw.ImpactCritical}

// Precedence says in words how rules combine; the dashboard, `rules
// check` and the README say it the same way.
const Precedence = "Rules scoped to a component (component \"glob\": …) are considered first; among the rules that match, " +
	"the most eager publication wins: publish immediately, then the shortest publish after, then draft, then observe, " +
	"then do not publish (the earlier line on a tie). Unscoped rules decide only when no scoped rule matches; " +
	"when nothing matches, nothing is published. Every matching escalation applies: the worst component status " +
	"and the highest impact win, and a status escalation raises the impact with it (degraded_performance: minor, " +
	"partial_outage: major, major_outage: critical) unless a matching rule names the impact."

// eager reports whether a publishes sooner than b.
func eager(a, b Action) bool {
	if a.Publish != b.Publish {
		return a.Publish > b.Publish
	}
	return a.Publish == PublishAfter && a.After < b.After
}

func glob(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}

func holds(e Expr, f *Facts) bool {
	switch x := e.(type) {
	case And:
		return holds(x.L, f) && holds(x.R, f)
	case Or:
		return holds(x.L, f) || holds(x.R, f)
	case Not:
		return !holds(x.X, f)
	case During:
		return f.DuringMaintenance
	case Compare:
		return compare(x, f)
	}
	return false
}

func compare(c Compare, f *Facts) bool {
	switch c.Field {
	case FieldSeverity:
		return order(c.Op, f.Severity.Rank(), c.Severity.Rank())
	case FieldDuration:
		return order(c.Op, int64(f.Duration), int64(c.Duration))
	case FieldBPS:
		return order(c.Op, f.BPS, c.Rate)
	case FieldPPS:
		return order(c.Op, f.PPS, c.Rate)
	case FieldAttack:
		return (c.Op == "==") == attackIs(f.Classification, c.Text)
	case FieldVector:
		any := false
		for _, v := range f.Vectors {
			any = any || attackIs(v, c.Text)
		}
		return (c.Op == "==") == any
	case FieldNode:
		return (c.Op == "==") == glob(c.Text, f.Node)
	case FieldComponent:
		return (c.Op == "==") == glob(c.Text, f.Component)
	case FieldLocations:
		return order(c.Op, uint64(f.Locations), c.Rate)
	case FieldCheck:
		return f.Check != "" && (c.Op == "==") == glob(c.Text, f.Check)
	}
	return false
}

// attackIs matches a vector key against a rule's name: exact, or a family
// ("amplification" covers every service, "reflection" every port).
func attackIs(key, name string) bool {
	switch name {
	case sw.VectorAmplification:
		return strings.HasSuffix(key, "_amplification")
	case sw.VectorReflection:
		return strings.HasPrefix(key, "reflection_") || key == sw.VectorReflection
	}
	return key == name
}

func order[T int | int64 | uint64](op string, a, b T) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case ">=":
		return a >= b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case "<":
		return a < b
	}
	return false
}

// Template placeholders: {components}, {severity}, {attack}, {duration},
// and {target} and {volume}, which name the attacked address and the peak
// rate only in workspaces that opted in (public text must not help the
// attacker); elsewhere they read "our network" and "heavy traffic".
var placeholder = regexp.MustCompile(`\{[a-z_]*\}`)

var placeholders = map[string]bool{"{components}": true, "{severity}": true, "{attack}": true, "{duration}": true,
	"{target}": true, "{volume}": true, "{check}": true, "{locations}": true}

func checkTemplate(s string) string {
	if len(s) > sw.MaxTitleLen*4 {
		return "template too long"
	}
	for _, p := range placeholder.FindAllString(s, -1) {
		if !placeholders[p] {
			return "unknown placeholder " + p + ": use {components}, {severity}, {attack}, {duration}, {target}, {volume}, {check} or {locations}"
		}
	}
	return ""
}

// Expand fills a template's placeholders.
func Expand(template string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(template, func(p string) string {
		if v, ok := vars[strings.Trim(p, "{}")]; ok {
			return v
		}
		return p
	})
}
