package detect

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)

func testSettings() Settings {
	s := DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	s.PPS, s.BPS, s.UDPPPS = 10_000, 1_000_000_000, 0
	s.Learn = time.Hour
	return s
}

// feed sends pps packets per second of UDP from port 53 to dst for the
// duration from start, and returns the events.
func feed(d *Detector, dst netip.Addr, start time.Time, dur time.Duration, pps int) []Event {
	var out []Event
	step := time.Second / time.Duration(pps)
	for at := start; at.Before(start.Add(dur)); at = at.Add(step) {
		p := Packet{At: at, Src: netip.AddrFrom4([4]byte{198, 51, 100, byte(at.Nanosecond() % 200)}), Dst: dst, Proto: ProtoUDP,
			SrcPort: 53, DstPort: 4000, Size: 1000, Count: 1, Bytes: 1000}
		out = append(out, d.Observe(&p)...)
	}
	return out
}

func types(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

func TestReonsetIsTheSameAttack(t *testing.T) {
	d := New(testSettings())
	dst := netip.MustParseAddr("203.0.113.7")
	first := feed(d, dst, t0, 3*time.Second, 30_000)
	first = append(first, d.Flush(t0.Add(20*time.Second))...)
	if len(first) == 0 || first[0].Type != EventStarted || first[len(first)-1].Type != EventEnded {
		t.Fatalf("first flare: %v", types(first))
	}
	// 30 s after the end: within the re-onset window.
	again := feed(d, dst, t0.Add(50*time.Second), 2*time.Second, 30_000)
	if len(again) == 0 || again[0].Type != EventStarted || again[0].AttackID != first[0].AttackID || again[0].Seq <= first[len(first)-1].Seq {
		t.Fatalf("re-onset: %+v, want attack.started of %s with a higher seq", again, first[0].AttackID)
	}
	// Long after: a new attack.
	d.Flush(t0.Add(200 * time.Second))
	later := feed(d, dst, t0.Add(300*time.Second), 2*time.Second, 30_000)
	if len(later) == 0 || later[0].AttackID == first[0].AttackID || later[0].Seq != 1 {
		t.Fatalf("a later attack reused the id: %+v", later)
	}
}

func TestMitigatedPhase(t *testing.T) {
	d := New(testSettings())
	dst := netip.MustParseAddr("203.0.113.8")
	ev := feed(d, dst, t0, time.Second, 30_000)
	if len(ev) == 0 {
		t.Fatal("no attack")
	}
	m := d.MarkMitigated(ev[0].AttackID)
	if m == nil || m.Type != EventMitigating || m.Phase != PhaseMitigating || m.Seq != ev[len(ev)-1].Seq+1 {
		t.Fatalf("mitigating event: %+v", m)
	}
	if d.MarkMitigated("atk_unknown") != nil {
		t.Fatal("unknown attack mitigated")
	}
}

func TestLearnedBaseline(t *testing.T) {
	s := testSettings()
	s.PPS, s.BPS = 0, 0 // learned thresholds only
	s.Learn, s.MinPPS, s.MinBPS = 60*time.Second, 1_000, 1
	d := New(s)
	dst := netip.MustParseAddr("203.0.113.9")
	if ev := feed(d, dst, t0, 90*time.Second, 500); len(ev) != 0 {
		t.Fatalf("normal traffic while learning raised %v", types(ev))
	}
	// Five times the usual rate is over mean·factor: an attack.
	ev := feed(d, dst, t0.Add(90*time.Second), 2*time.Second, 5_000)
	if len(ev) == 0 || ev[0].Type != EventStarted {
		t.Fatalf("10× the baseline: %v", types(ev))
	}
	// Twice the usual rate is not (stays under the floor-and-factor line).
	d2 := New(s)
	feed(d2, dst, t0, 90*time.Second, 500)
	if ev := feed(d2, dst, t0.Add(90*time.Second), 3*time.Second, 1_000); len(ev) != 0 {
		t.Fatalf("2× the baseline raised %v", types(ev))
	}
}

func TestSeverity(t *testing.T) {
	s := DefaultSettings()
	tests := []struct {
		ratio float64
		bps   uint64
		want  string
	}{
		{0.9, 0, "low"}, {1.2, 0, "medium"}, {2.5, 0, "high"}, {25, 0, "critical"},
		{0.5, 2_000_000_000, "medium"}, {1.1, 5_000_000_000, "high"}, {1.1, 9_000_000_000, "critical"},
	}
	for _, tt := range tests {
		if got := severityFor(&s, tt.ratio, tt.bps); got != tt.want {
			t.Errorf("severity(%v, %d) = %s, want %s", tt.ratio, tt.bps, got, tt.want)
		}
	}
}

func TestHLLAccuracy(t *testing.T) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		var h hll
		for i := range n {
			h.add(addrHash(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})))
		}
		if est := float64(h.estimate()); math.Abs(est-float64(n))/float64(n) > 0.1 {
			t.Errorf("%d distinct: estimate %v", n, est)
		}
	}
}

func TestHeavyHittersFindTheLoudest(t *testing.T) {
	var h heavyAddrs
	loud := netip.MustParseAddr("198.51.100.66")
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		h.add(a, addrHash(a), 1)
		if i%5 == 0 {
			h.add(loud, addrHash(loud), 1)
		}
	}
	top := topSources(&h, 1)
	if len(top) != 1 || top[0].Addr != loud.String() {
		t.Fatalf("top = %+v", top)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		vectors  []Vector
		pps, bps uint64
		want     string
	}{
		{[]Vector{{Type: VectorAmplification, Service: "dns"}}, 280_000, 3_200_000_000, "UDP flood (DNS amplification) on 203.0.113.7 — 3.2 Gbps"},
		{[]Vector{{Type: VectorSYNFlood}}, 1_200_000, 60_000_000, "SYN flood on 203.0.113.7 — 1.2 Mpps"},
		{[]Vector{{Type: VectorReflection, Proto: "udp", Port: 37810}}, 50_000, 400_000_000, "UDP flood (reflection from UDP port 37810) on 203.0.113.7 — 400.0 Mbps"},
		{nil, 10, 10, "Traffic flood on 203.0.113.7 — 10 bps"},
	}
	for _, tt := range tests {
		if got := Title(tt.vectors, "203.0.113.7", tt.pps, tt.bps); got != tt.want {
			t.Errorf("Title = %q, want %q", got, tt.want)
		}
	}
}

func TestMaxHostsBoundsMemoryButNotDetection(t *testing.T) {
	s := testSettings()
	s.MaxHosts = 4
	s.PrefixPPS, s.CarpetMinTargets = 20_000, 16
	d := New(s)
	var events []Event
	step := time.Second / 40_000
	i := 0
	for at := t0; at.Before(t0.Add(2 * time.Second)); at = at.Add(step) {
		p := Packet{At: at, Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 64)}),
			Proto: ProtoUDP, SrcPort: 4000, DstPort: 53, Size: 200, Count: 1, Bytes: 200}
		events = append(events, d.Observe(&p)...)
		i++
	}
	if len(d.hosts) > 4 {
		t.Fatalf("%d addresses tracked, want at most 4", len(d.hosts))
	}
	if len(events) == 0 || events[0].Target != "203.0.113.0/24" || events[0].Vectors[0].Type != VectorCarpet {
		t.Fatalf("carpet bombing past the cap: %+v", events)
	}
}

// TestLongGapCostsNothing: packets months apart (captures stitched from
// sessions) close only the ticks around the traffic, and an attack before
// the gap still ends whole, with one after it a new attack.
func TestLongGapCostsNothing(t *testing.T) {
	d := New(testSettings())
	dst := netip.MustParseAddr("203.0.113.7")
	before := feed(d, dst, t0, 3*time.Second, 30_000)
	later := t0.Add(180 * 24 * time.Hour)
	after := feed(d, dst, later, 3*time.Second, 30_000)
	after = append(after, d.Flush(later.Add(time.Minute))...)
	if d.ticksClosed > 5000 {
		t.Fatalf("%d ticks closed one by one for 6 s of traffic 180 days apart", d.ticksClosed)
	}
	if len(before) == 0 || before[0].Type != EventStarted {
		t.Fatalf("before the gap: %v", types(before))
	}
	var ended bool
	for _, e := range after {
		ended = ended || (e.AttackID == before[0].AttackID && e.Type == EventEnded)
	}
	if !ended {
		t.Errorf("the first attack did not end across the gap: %v", types(after))
	}
	var second []Event
	for _, e := range after {
		if e.AttackID != before[0].AttackID {
			second = append(second, e)
		}
	}
	if len(second) == 0 || second[0].Type != EventStarted || second[len(second)-1].Type != EventEnded {
		t.Errorf("after the gap: %v", types(second))
	}
}
