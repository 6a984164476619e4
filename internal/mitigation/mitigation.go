// Package mitigation decides, from an attack event and the operator's
// policy, what to announce upstream: a blackhole route for the target
// (RTBH, with its communities) and/or a FlowSpec rule that drops or
// rate-limits exactly the attack's vector. It is pure: the BGP speaker
// that announces lives in internal/bgpspeaker.
package mitigation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// RTBH is the well-known BLACKHOLE community (RFC 7999), 65535:666.
const RTBH = 65535<<16 | 666

// Rule is one line of a mitigation policy: which attacks get which
// action. Empty fields match everything.
type Rule struct {
	// MinSeverity is the least severity the rule applies to.
	MinSeverity sw.Severity `yaml:"min_severity" json:"min_severity"`
	// Classification is a glob of the attack's classification
	// (dns_amplification, *_amplification, syn_flood, …).
	Classification string `yaml:"classification" json:"classification"`
	// Prefix limits the rule to targets inside it.
	Prefix string `yaml:"prefix" json:"prefix"`
	// Blackhole announces the target's /32 (/128) with the communities;
	// FlowSpec announces a rule for the attack's vector.
	Blackhole bool `yaml:"blackhole" json:"blackhole"`
	FlowSpec  bool `yaml:"flowspec" json:"flowspec"`
	// RateLimit, with FlowSpec, limits the vector to this many bytes per
	// second instead of dropping it.
	RateLimit float32 `yaml:"rate_limit" json:"rate_limit"`
}

// Policy is a node's mitigation policy: the first rule that matches
// decides; none matching announces nothing.
type Policy struct {
	Rules []Rule `yaml:"rules" json:"rules"`
	// BlackholeCommunity marks blackhole routes ("65535:666", RFC 7999's
	// BLACKHOLE, when empty); Communities are added to them (provider
	// specific, as "ASN:value").
	BlackholeCommunity string   `yaml:"blackhole_community" json:"blackhole_community,omitempty"`
	Communities        []string `yaml:"communities" json:"communities"`
	// Hold is how long announcements stay after the attack ended.
	Hold time.Duration `yaml:"hold" json:"hold"`
	// MaxBlackholes bounds the blackholes announced at once.
	MaxBlackholes int `yaml:"max_blackholes" json:"max_blackholes"`
}

// policyJSON is Policy on the wire, its hold in words ("5m").
type policyJSON struct {
	Rules              []Rule   `json:"rules"`
	BlackholeCommunity string   `json:"blackhole_community,omitempty"`
	Communities        []string `json:"communities"`
	Hold               string   `json:"hold"`
	MaxBlackholes      int      `json:"max_blackholes"`
}

// MarshalJSON writes the hold as a duration in words.
func (p Policy) MarshalJSON() ([]byte, error) {
	return json.Marshal(policyJSON{Rules: p.Rules, BlackholeCommunity: p.BlackholeCommunity, Communities: p.Communities, Hold: p.Hold.String(),
		MaxBlackholes: p.MaxBlackholes})
}

// ParsePolicy reads a policy set through the API: unknown fields are
// refused, absent ones take the defaults, and the whole is checked.
func ParsePolicy(raw []byte) (Policy, error) {
	var w policyJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Policy{}, fmt.Errorf("%v", err)
	}
	p := Policy{Rules: w.Rules, BlackholeCommunity: w.BlackholeCommunity, Communities: w.Communities, Hold: DefaultHold, MaxBlackholes: w.MaxBlackholes}
	if w.Hold != "" {
		d, err := time.ParseDuration(w.Hold)
		if err != nil {
			return Policy{}, fmt.Errorf("hold: %q is not a duration such as 5m", w.Hold)
		}
		p.Hold = d
	}
	if p.MaxBlackholes == 0 {
		p.MaxBlackholes = DefaultMaxBlackholes
	}
	return p, p.Check()
}

// Defaults of a policy.
const (
	DefaultHold          = 5 * time.Minute
	DefaultMaxBlackholes = 10
)

// DefaultPolicy blackholes critical attacks and filters the vector of
// high ones with FlowSpec.
func DefaultPolicy() Policy {
	return Policy{Rules: []Rule{
		{MinSeverity: sw.SeverityCritical, Blackhole: true, FlowSpec: true},
		{MinSeverity: sw.SeverityHigh, FlowSpec: true},
	}, Hold: DefaultHold, MaxBlackholes: DefaultMaxBlackholes}
}

// Check validates a policy, naming the field at fault.
func (p *Policy) Check() error {
	for i, r := range p.Rules {
		if r.MinSeverity != "" && !r.MinSeverity.Valid() {
			return fmt.Errorf("rules[%d].min_severity: %q is not low, medium, high or critical", i, r.MinSeverity)
		}
		if _, err := path.Match(r.Classification, ""); err != nil {
			return fmt.Errorf("rules[%d].classification: %q is not a glob", i, r.Classification)
		}
		if r.Prefix != "" {
			if _, err := netip.ParsePrefix(r.Prefix); err != nil {
				return fmt.Errorf("rules[%d].prefix: %q is not a CIDR", i, r.Prefix)
			}
		}
		if r.RateLimit < 0 {
			return fmt.Errorf("rules[%d].rate_limit: must not be negative", i)
		}
	}
	if _, err := Communities(p.Communities); err != nil {
		return err
	}
	if p.BlackholeCommunity != "" {
		if _, err := Communities([]string{p.BlackholeCommunity}); err != nil {
			return fmt.Errorf("blackhole_community: %q is not ASN:value", p.BlackholeCommunity)
		}
	}
	if p.Hold < 0 || p.MaxBlackholes < 0 {
		return fmt.Errorf("hold and max_blackholes: must not be negative")
	}
	return nil
}

// Communities parses "ASN:value" communities.
func Communities(list []string) ([]uint32, error) {
	out := make([]uint32, 0, len(list))
	for i, c := range list {
		var hi, lo uint32
		if _, err := fmt.Sscanf(c, "%d:%d", &hi, &lo); err != nil || hi > 65535 || lo > 65535 || fmt.Sprintf("%d:%d", hi, lo) != c {
			return nil, fmt.Errorf("communities[%d]: %q is not ASN:value (two numbers up to 65535)", i, c)
		}
		out = append(out, hi<<16|lo)
	}
	return out, nil
}

var severityRank = map[sw.Severity]int{sw.SeverityLow: 1, sw.SeverityMedium: 2, sw.SeverityHigh: 3, sw.SeverityCritical: 4}

// Decide returns the rule that applies to attack e, if any.
func (p *Policy) Decide(e *sw.AttackEvent) (Rule, bool) {
	target, err := parseTarget(e.Target)
	if err != nil {
		return Rule{}, false
	}
	for _, r := range p.Rules {
		if r.MinSeverity != "" && severityRank[sw.Severity(e.Severity)] < severityRank[r.MinSeverity] {
			continue
		}
		if r.Classification != "" {
			if ok, _ := path.Match(r.Classification, e.Classification); !ok {
				continue
			}
		}
		if r.Prefix != "" {
			if pre, err := netip.ParsePrefix(r.Prefix); err != nil || !pre.Overlaps(target) || pre.Bits() > target.Bits() {
				continue
			}
		}
		return r, r.Blackhole || r.FlowSpec
	}
	return Rule{}, false
}

// Announcement is one route to announce.
type Announcement struct {
	// Kind is "blackhole" or "flowspec".
	Kind string `json:"kind"`
	// Target is the attacked address (as /32 or /128) or prefix.
	Target netip.Prefix `json:"target"`
	// Match is a FlowSpec rule in GoBGP's words ("destination … protocol
	// ==udp source-port ==53").
	Match string `json:"match,omitempty"`
	// Communities are a blackhole's.
	Communities []uint32 `json:"communities,omitempty"`
	// Rate is a FlowSpec rule's rate limit in bytes/s (0 drops).
	Rate float32 `json:"rate"`
}

// Key names an announcement uniquely, for the list kept on disk.
func (a Announcement) Key() string { return a.Kind + " " + a.Target.String() + " " + a.Match }

// Plan turns rule r's decision for attack e into announcements, refusing
// any target outside the protected prefixes.
func Plan(e *sw.AttackEvent, r Rule, p *Policy, protected []netip.Prefix) ([]Announcement, error) {
	target, err := parseTarget(e.Target)
	if err != nil {
		return nil, err
	}
	inside := false
	for _, pre := range protected {
		if pre.Contains(target.Addr()) && pre.Bits() <= target.Bits() {
			inside = true
		}
	}
	if !inside {
		return nil, fmt.Errorf("target %s is outside the protected prefixes: nothing announced", target)
	}
	var out []Announcement
	if r.Blackhole {
		comms, err := Communities(p.Communities)
		if err != nil {
			return nil, err
		}
		mark := uint32(RTBH)
		if p.BlackholeCommunity != "" {
			c, err := Communities([]string{p.BlackholeCommunity})
			if err != nil {
				return nil, fmt.Errorf("blackhole_community: %w", err)
			}
			mark = c[0]
		}
		out = append(out, Announcement{Kind: "blackhole", Target: target, Communities: append([]uint32{mark}, comms...)})
	}
	if r.FlowSpec {
		out = append(out, Announcement{Kind: "flowspec", Target: target, Match: flowMatch(target, e), Rate: r.RateLimit})
	}
	return out, nil
}

// flowMatch describes the attack's main vector for FlowSpec: the target,
// and what the vector is — protocol, the reflectors' source port, TCP
// flags, fragments.
func flowMatch(target netip.Prefix, e *sw.AttackEvent) string {
	m := []string{"destination " + target.String()}
	if len(e.Vectors) == 0 {
		return m[0]
	}
	v := e.Vectors[0]
	switch v.Type {
	case sw.VectorAmplification:
		m = append(m, "protocol ==udp")
		for _, s := range sw.Services {
			if s.Key == v.Service {
				m = append(m, fmt.Sprintf("source-port ==%d", s.Port))
			}
		}
	case sw.VectorReflection:
		m = append(m, "protocol =="+strings.ToLower(v.Proto), fmt.Sprintf("source-port ==%d", v.Port))
	case sw.VectorUDPFlood:
		m = append(m, "protocol ==udp")
	case sw.VectorSYNFlood:
		m = append(m, "protocol ==tcp", "tcp-flags =S")
	case sw.VectorSYNACKReflection:
		m = append(m, "protocol ==tcp", "tcp-flags =SA")
	case sw.VectorACKFlood:
		m = append(m, "protocol ==tcp", "tcp-flags =A")
	case sw.VectorRSTFINFlood, sw.VectorTCPFlood:
		m = append(m, "protocol ==tcp")
	case sw.VectorICMPFlood:
		if target.Addr().Is4() {
			m = append(m, "protocol ==icmp")
		} else {
			m = append(m, "protocol ==ipv6-icmp")
		}
	case sw.VectorFragmentFlood:
		m = append(m, "fragment is-fragment")
	case sw.VectorGREFlood:
		m = append(m, "protocol ==gre")
	}
	return strings.Join(m, " ")
}

// parseTarget reads an attack's target: an address or a prefix.
func parseTarget(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("target %q is neither an address nor a prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
