package mitigation

import (
	"net/netip"
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
)

var protected = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}

func event(target, severity, class string, v sw.Vector) *sw.AttackEvent {
	return &sw.AttackEvent{AttackID: "a", Target: target, Severity: severity, Classification: class, Vectors: []sw.Vector{v}}
}

func TestDecideAndPlan(t *testing.T) {
	p := Policy{Rules: []Rule{
		{Classification: "syn_flood", Prefix: "203.0.113.128/25", FlowSpec: true, RateLimit: 1e6},
		{MinSeverity: sw.SeverityCritical, Blackhole: true, FlowSpec: true},
		{MinSeverity: sw.SeverityHigh, Classification: "*_amplification", FlowSpec: true},
	}, Communities: []string{"64500:9999"}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		e    *sw.AttackEvent
		want []string // kind + match of each announcement
	}{
		{"critical amplification: both", event("203.0.113.7", "critical", "dns_amplification", sw.Vector{Type: sw.VectorAmplification, Service: "dns"}),
			[]string{"blackhole ", "flowspec destination 203.0.113.7/32 protocol ==udp source-port ==53"}},
		{"high amplification: flowspec", event("203.0.113.7", "high", "ntp_amplification", sw.Vector{Type: sw.VectorAmplification, Service: "ntp"}),
			[]string{"flowspec destination 203.0.113.7/32 protocol ==udp source-port ==123"}},
		{"high SYN flood elsewhere: nothing", event("203.0.113.7", "high", "syn_flood", sw.Vector{Type: sw.VectorSYNFlood}), nil},
		{"SYN flood in the /25: rate-limited", event("203.0.113.200", "low", "syn_flood", sw.Vector{Type: sw.VectorSYNFlood}),
			[]string{"flowspec destination 203.0.113.200/32 protocol ==tcp tcp-flags =S"}},
		{"reflection", event("203.0.113.7", "critical", "reflection_27015", sw.Vector{Type: sw.VectorReflection, Proto: "udp", Port: 27015}),
			[]string{"blackhole ", "flowspec destination 203.0.113.7/32 protocol ==udp source-port ==27015"}},
		{"IPv6", event("2001:db8::7", "critical", "udp_flood", sw.Vector{Type: sw.VectorUDPFlood}),
			[]string{"blackhole ", "flowspec destination 2001:db8::7/128 protocol ==udp"}},
		{"medium: nothing", event("203.0.113.7", "medium", "udp_flood", sw.Vector{Type: sw.VectorUDPFlood}), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, ok := p.Decide(c.e)
			var got []string
			if ok {
				plan, err := Plan(c.e, r, &p, protected)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range plan {
					got = append(got, a.Kind+" "+a.Match)
					if a.Kind == "blackhole" && (len(a.Communities) != 2 || a.Communities[0] != RTBH || a.Communities[1] != 64500<<16|9999) {
						t.Errorf("communities %v", a.Communities)
					}
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestDefaultPolicy: without rules of its own a node blackholes and
// filters critical attacks, filters high ones, and leaves the rest.
func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	for severity, want := range map[string]string{"critical": "blackhole|flowspec", "high": "flowspec", "medium": "", "low": ""} {
		e := event("203.0.113.7", severity, "udp_flood", sw.Vector{Type: sw.VectorUDPFlood})
		var got []string
		if r, ok := p.Decide(e); ok {
			plan, err := Plan(e, r, &p, protected)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range plan {
				got = append(got, a.Kind)
			}
		}
		if strings.Join(got, "|") != want {
			t.Errorf("%s: %v, want %q", severity, got, want)
		}
	}
	if p.Hold != DefaultHold || p.MaxBlackholes != DefaultMaxBlackholes {
		t.Errorf("defaults %+v", p)
	}
}

func TestNeverOutsideTheProtectedPrefixes(t *testing.T) {
	p := DefaultPolicy()
	e := event("198.51.100.7", "critical", "udp_flood", sw.Vector{Type: sw.VectorUDPFlood})
	r, ok := p.Decide(e)
	if !ok {
		t.Fatal("the default policy mitigates a critical attack")
	}
	if _, err := Plan(e, r, &p, protected); err == nil || !strings.Contains(err.Error(), "outside the protected prefixes") {
		t.Errorf("a target outside: %v", err)
	}
	e.Target = "203.0.0.0/16" // wider than what is protected
	if _, err := Plan(e, r, &p, protected); err == nil {
		t.Error("a prefix wider than the protected one was planned")
	}
}

func TestBlackholeCommunityIsConfigurable(t *testing.T) {
	p := Policy{Rules: []Rule{{Blackhole: true}}, BlackholeCommunity: "64500:666", Communities: []string{"64500:1"}}
	e := event("203.0.113.7", "critical", "udp_flood", sw.Vector{Type: sw.VectorUDPFlood})
	r, _ := p.Decide(e)
	plan, err := Plan(e, r, &p, protected)
	if err != nil || len(plan) != 1 || plan[0].Communities[0] != 64500<<16|666 || plan[0].Communities[1] != 64500<<16|1 {
		t.Errorf("%+v %v", plan, err)
	}
	p.BlackholeCommunity = "666"
	if p.Check() == nil {
		t.Error("a malformed blackhole community passed")
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"rules":[{"min_severity":"high","flowspec":true}],"hold":"10m"}`))
	if err != nil || p.Hold.String() != "10m0s" || p.MaxBlackholes != DefaultMaxBlackholes {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range []string{`{"rules":[{"min_severity":"huge"}]}`, `{"hold":"soon"}`, `{"communities":["65536:1"]}`,
		`{"rules":[{"prefix":"nope"}]}`, `{"unknown":1}`, `not json`} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
