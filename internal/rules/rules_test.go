package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// designExample is the rule set of DESIGN.md.
const designExample = `severity >= high                    -> publish immediately
severity == medium                  -> publish after 60s if unresolved
severity == low                     -> do not publish
duration > 5m                       -> escalate to major_outage
duration > 30m                      -> escalate to critical
component "backup-*": severity < high -> do not publish
attack == amplification and bps > 10G -> publish immediately
`

func TestParseDesignExample(t *testing.T) {
	s, err := Parse(designExample)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 7 {
		t.Fatalf("%d rules", len(s.Rules))
	}
	r := s.Rules[5]
	if r.Component != "backup-*" || r.Action.Publish != PublishNever || r.Line != 6 {
		t.Errorf("scoped rule: %+v", r)
	}
	if a := s.Rules[1].Action; a.Publish != PublishAfter || a.After != time.Minute {
		t.Errorf("delay rule: %+v", a)
	}
	if _, err := Parse(DefaultText); err != nil {
		t.Fatalf("default rules: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown field", "severty >= high -> publish immediately", `1:1: unknown field "severty"`},
		{"bad severity", "severity >= huge -> publish immediately", "1:13: severity is one of low, medium, high, critical"},
		{"missing arrow", "severity >= high publish immediately", `1:18: expected -> before the action, found "publish"`},
		{"bad action", "severity >= high -> shout", `1:21: expected an action`},
		{"bad delay", "severity == medium -> publish after soon", `1:37: expected a delay`},
		{"bad rate", "bps > lots -> publish immediately", `1:7: expected a rate`},
		{"bad duration", "duration > forever -> escalate to critical", `1:12: expected a duration`},
		{"bad escalation", "duration > 5m -> escalate to doom", `1:30: escalate to a component status`},
		{"unknown attack", "attack == death_ray -> publish immediately", `1:11: unknown attack kind "death_ray"`},
		{"wrong operator", "attack > syn_flood -> publish immediately", "1:8: attack takes one of == !="},
		{"unterminated string", `component "web -> draft`, "1:11: unterminated string"},
		{"trailing words", "severity >= high -> draft now", `1:27: unexpected "now" after the action`},
		{"unclosed paren", "(severity >= high -> draft", "1:19: expected ) to close the ( at column 1"},
		{"bad placeholder", `severity >= high -> publish immediately title "Attack on {address}"`, "unknown placeholder {address}"},
		{"second line", "severity >= high -> draft\n\n  # comment\nseverity => high -> draft", "4:10: unknown operator \"=\""},
		{"empty template name", `severity >= high -> publish immediately template ""`, "1:50: template names an incident template"},
		{"template without publishing", `severity == low -> do not publish template "ddos"`, "1:35: template goes with a publishing action"},
		{"unknown locations", "locations >= many -> publish immediately", "1:14: expected a number of locations"},
		{"unknown language", `severity >= high -> publish immediately title xx "Angriff"`, "1:47: expected a quoted text or a language"},
		{"language without text", `severity >= high -> publish immediately title de`, `1:49: expected a quoted text after title`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.text)
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if !strings.Contains(list.Error(), tt.want) {
				t.Errorf("error %q, want %q", list.Error(), tt.want)
			}
		})
	}
	// Every bad line is reported, not just the first.
	_, err := Parse("bogus\nseverity >= high -> draft\nalso bogus")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || list[0].Line != 1 || list[1].Line != 3 {
		t.Fatalf("errors %v", err)
	}
}

func TestEvaluate(t *testing.T) {
	s, err := Parse(designExample + `vector == syn_flood and during maintenance -> observe
node == "lab-*" -> draft title "Possible attack on {components}" message "We are looking into unusual traffic ({attack})."
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		facts   Facts
		publish Publication
		after   time.Duration
		status  sw.ComponentStatus
		impact  sw.Impact
		line    int // of the deciding rule, 0 for none
	}{
		{"high publishes at once", Facts{Severity: sw.SeverityHigh, Component: "game-01"}, PublishNow, 0, sw.PartialOutage, sw.ImpactMajor, 1},
		{"critical", Facts{Severity: sw.SeverityCritical, Component: "game-01"}, PublishNow, 0, sw.MajorOutage, sw.ImpactCritical, 1},
		{"medium waits a minute", Facts{Severity: sw.SeverityMedium, Component: "game-01"}, PublishAfter, time.Minute, sw.DegradedPerformance, sw.ImpactMinor, 2},
		{"low stays quiet", Facts{Severity: sw.SeverityLow, Component: "game-01"}, PublishNever, 0, sw.DegradedPerformance, sw.ImpactMinor, 3},
		// The impact rises with the component's status (major_outage: critical).
		{"escalates after 5 minutes", Facts{Severity: sw.SeverityHigh, Duration: 6 * time.Minute, Component: "game-01"}, PublishNow, 0, sw.MajorOutage, sw.ImpactCritical, 1},
		{"escalates after 30 minutes", Facts{Severity: sw.SeverityHigh, Duration: 31 * time.Minute, Component: "game-01"}, PublishNow, 0, sw.MajorOutage, sw.ImpactCritical, 1},
		{"exactly 5 minutes is not more", Facts{Severity: sw.SeverityHigh, Duration: 5 * time.Minute, Component: "game-01"}, PublishNow, 0, sw.PartialOutage, sw.ImpactMajor, 1},
		{"component rule overrides", Facts{Severity: sw.SeverityMedium, Component: "backup-eu"}, PublishNever, 0, sw.DegradedPerformance, sw.ImpactMinor, 6},
		{"component rule does not hold", Facts{Severity: sw.SeverityHigh, Component: "backup-eu"}, PublishNow, 0, sw.PartialOutage, sw.ImpactMajor, 1},
		{"big amplification beats low severity", Facts{Severity: sw.SeverityLow, Classification: "dns_amplification", BPS: 12_000_000_000, Component: "game-01"},
			PublishNow, 0, sw.DegradedPerformance, sw.ImpactMinor, 7},
		{"small amplification stays low", Facts{Severity: sw.SeverityLow, Classification: "ntp_amplification", BPS: 1_000_000_000, Component: "game-01"},
			PublishNever, 0, sw.DegradedPerformance, sw.ImpactMinor, 3},
		{"observe during maintenance loses to more eager", Facts{Severity: sw.SeverityLow, Vectors: []string{"syn_flood"}, DuringMaintenance: true, Component: "db"},
			PublishObserve, 0, sw.DegradedPerformance, sw.ImpactMinor, 8},
		{"node glob drafts", Facts{Severity: sw.SeverityLow, Node: "lab-3", Component: "lab"}, PublishDraft, 0, sw.DegradedPerformance, sw.ImpactMinor, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(s, tt.facts)
			line := 0
			if d.Decided != nil {
				line = d.Decided.Line
			}
			if d.Publish != tt.publish || d.After != tt.after || d.Status != tt.status || d.Impact != tt.impact || line != tt.line {
				t.Errorf("got %v %v %s %s (line %d), want %v %v %s %s (line %d)", d.Publish, d.After, d.Status, d.Impact, line,
					tt.publish, tt.after, tt.status, tt.impact, tt.line)
			}
		})
	}
	d := Evaluate(s, Facts{Severity: sw.SeverityLow, Node: "lab-1", Component: "lab", Classification: "syn_flood"})
	vars := map[string]string{"components": "Lab", "attack": "SYN flood"}
	if Expand(d.Title, vars) != "Possible attack on Lab" || Expand(d.Message, vars) != "We are looking into unusual traffic (SYN flood)." {
		t.Errorf("templates: %q %q", d.Title, d.Message)
	}
	if d := Evaluate(&Set{}, Facts{Severity: sw.SeverityCritical}); d.Publish != PublishNever || d.Decided != nil {
		t.Errorf("empty set: %+v", d)
	}
}

// FuzzParse feeds arbitrary text to the parser: it must never panic, and
// what it accepts must evaluate.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{designExample, DefaultText, "", "#", `component "x": (severity > low or not during maintenance) -> publish after 1s title "{attack}"`,
		"attack == reflection_53 -> draft", "bps >= 1.5G and pps < 10k -> escalate to critical", "\"", "->", "((((", "severity == high -> publish after -1s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Col < 1 {
					t.Fatalf("bad position %d:%d", e.Line, e.Col)
				}
			}
			return
		}
		Evaluate(s, Facts{Severity: sw.SeverityHigh, Duration: time.Hour, Classification: "dns_amplification", Component: "x"})
	})
}

// TestEscalationImpact: a status escalation raises the impact with it,
// unless a matching rule names the impact.
func TestEscalationImpact(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       sw.Impact
	}{
		{"status raises impact", "severity >= low -> publish immediately\nduration > 5m -> escalate to major_outage", sw.ImpactCritical},
		{"partial outage is major", "severity >= low -> publish immediately\nduration > 5m -> escalate to partial_outage", sw.ImpactMajor},
		{"a named impact stands", "severity >= low -> publish immediately\nduration > 5m -> escalate to major_outage\nduration > 5m -> escalate to major", sw.ImpactMajor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			d := Evaluate(set, Facts{Severity: sw.SeverityMedium, Duration: 6 * time.Minute, Component: "game-01"})
			if d.Impact != tc.want {
				t.Errorf("impact %s, want %s", d.Impact, tc.want)
			}
		})
	}
}

func TestTemplateAndLocationsRules(t *testing.T) {
	set, err := Parse(`attack == monitor_down and locations >= 2 and check == "web *" -> publish immediately template "outage"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		locations int
		check     string
		want      Publication
	}{{2, "web https", PublishNow}, {1, "web https", PublishNever}, {3, "api", PublishNever}} {
		d := Evaluate(set, Facts{Severity: sw.SeverityHigh, Classification: sw.VectorMonitorDown, Locations: tt.locations, Check: tt.check})
		if d.Publish != tt.want || (tt.want == PublishNow && d.Template != "outage") {
			t.Errorf("%d locations, check %q: %v template %q", tt.locations, tt.check, d.Publish, d.Template)
		}
	}
}

// TestTextsPerLanguage: a rule names its title and message per language
// beside the default ones.
func TestTextsPerLanguage(t *testing.T) {
	set, err := Parse(`severity >= high -> publish immediately title "Attack on {components}" title de "Angriff auf {components}" message FR "Nous enquêtons."`)
	if err != nil {
		t.Fatal(err)
	}
	d := Evaluate(set, Facts{Severity: sw.SeverityCritical})
	if d.Title != "Attack on {components}" || d.Titles["de"] != "Angriff auf {components}" || d.Messages["fr"] != "Nous enquêtons." || d.Message != "" {
		t.Errorf("decision: %q %v %q %v", d.Title, d.Titles, d.Message, d.Messages)
	}
}
