package bgpspeaker

import (
	"net/netip"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/mitigation"
)

// TestEveryVectorBuildsAPath: the FlowSpec rule of every kind of attack,
// and blackholes of both families, are routes GoBGP accepts.
func TestEveryVectorBuildsAPath(t *testing.T) {
	s := &Speaker{cfg: Config{RouterID: "192.0.2.1", NextHop: "192.0.2.1", NextHop6: "2001:db8::1"}}
	p := mitigation.Policy{Rules: []mitigation.Rule{{Blackhole: true, FlowSpec: true}}}
	for _, v := range []sw.Vector{{Type: sw.VectorAmplification, Service: "memcached"}, {Type: sw.VectorReflection, Proto: "tcp", Port: 443},
		{Type: sw.VectorSYNFlood}, {Type: sw.VectorSYNACKReflection}, {Type: sw.VectorACKFlood}, {Type: sw.VectorRSTFINFlood},
		{Type: sw.VectorTCPFlood}, {Type: sw.VectorUDPFlood}, {Type: sw.VectorICMPFlood}, {Type: sw.VectorFragmentFlood}, {Type: sw.VectorGREFlood}} {
		for _, target := range []string{"203.0.113.7", "2001:db8::7"} {
			e := &sw.AttackEvent{Target: target, Severity: "critical", Vectors: []sw.Vector{v}}
			r, _ := p.Decide(e)
			plan, err := mitigation.Plan(e, r, &p, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range plan {
				if _, _, err := s.path(a, false); err != nil {
					t.Errorf("%s on %s: %v", v.Type, target, err)
				}
			}
		}
	}
}
