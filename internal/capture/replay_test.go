package capture_test

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/detect"
)

var (
	victim = net.IPv4(203, 0, 113, 7)
	start  = time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC)
)

// testSettings are the defaults as shipped, for the test prefix, with a
// 1 Gbit/s link.
func testSettings() detect.Settings {
	s := detect.DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	s.LinkBPS = 1_000_000_000
	return s
}

// attackScenario is 2 s of normal web traffic, the attack for 4 s, a tail
// at a quarter of its rate for 4 s, then 12 s of normal traffic again.
func attackScenario(attack ...pcapgen.Mix) pcapgen.Scenario {
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 2000}
	tail := make([]pcapgen.Mix, 0, len(attack)+1)
	for _, m := range attack {
		tail = append(tail, pcapgen.Mix{Kind: m.Kind, PPS: m.PPS / 8})
	}
	return pcapgen.Scenario{Start: start, Phases: []pcapgen.Phase{
		{Duration: 2 * time.Second, Mixes: []pcapgen.Mix{web}},
		{Duration: 4 * time.Second, Mixes: append([]pcapgen.Mix{web}, attack...)},
		{Duration: 4 * time.Second, Mixes: append([]pcapgen.Mix{web}, tail...)},
		{Duration: 12 * time.Second, Mixes: []pcapgen.Mix{web}},
	}}
}

// replay writes the scenario and runs the detector over it.
func replay(t *testing.T, s pcapgen.Scenario, speed float64) []detect.Event {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if _, err := pcapgen.Write(path, s); err != nil {
		t.Fatal(err)
	}
	return replayFile(t, path, speed)
}

func replayFile(t *testing.T, path string, speed float64) []detect.Event {
	t.Helper()
	d := detect.New(testSettings())
	var events []detect.Event
	st, err := capture.ReadFile(context.Background(), path, speed, func(p *detect.Packet) error {
		events = append(events, d.Observe(p)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	events = append(events, d.Flush(st.Last.Add(time.Minute))...)
	return events
}

func TestReplayAttacks(t *testing.T) {
	ip := victim
	tests := []struct {
		name     string
		attack   []pcapgen.Mix
		class    string
		severity string
		vectors  []string
		title    string
	}{
		{"udp flood", []pcapgen.Mix{{Kind: pcapgen.UDPFlood(ip, 512), PPS: 30_000}}, "udp_flood", "high", nil, "UDP flood on 203.0.113.7"},
		{"syn flood", []pcapgen.Mix{{Kind: pcapgen.TCPFlags(ip, 443, true, false, false, false), PPS: 30_000}}, "syn_flood", "high", nil, "SYN flood on 203.0.113.7 — "},
		{"ack flood", []pcapgen.Mix{{Kind: pcapgen.TCPFlags(ip, 443, false, true, false, false), PPS: 40_000}}, "ack_flood", "high", nil, "ACK flood"},
		{"rst flood", []pcapgen.Mix{{Kind: pcapgen.TCPFlags(ip, 443, false, false, true, false), PPS: 40_000}}, "rst_fin_flood", "high", nil, "RST/FIN flood"},
		{"icmp flood", []pcapgen.Mix{{Kind: pcapgen.ICMPFlood(ip, 56), PPS: 20_000}}, "icmp_flood", "medium", nil, "ICMP flood"},
		{"dns amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 53, 1400), PPS: 20_000}}, "dns_amplification", "high", nil, "UDP flood (DNS amplification) on 203.0.113.7 — 2"},
		{"ntp amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 123, 468), PPS: 20_000}}, "ntp_amplification", "medium", nil, "NTP amplification"},
		{"ssdp amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 1900, 320), PPS: 20_000}}, "ssdp_amplification", "medium", nil, "SSDP amplification"},
		{"memcached amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 11211, 1400), PPS: 60_000}}, "memcached_amplification", "high", nil, "memcached amplification"},
		{"cldap amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 389, 1400), PPS: 20_000}}, "cldap_amplification", "high", nil, "CLDAP amplification"},
		{"chargen amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 19, 1000), PPS: 20_000}}, "chargen_amplification", "high", nil, "chargen amplification"},
		{"snmp amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 161, 1200), PPS: 20_000}}, "snmp_amplification", "high", nil, "SNMP amplification"},
		{"ws-discovery amplification", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 3702, 900), PPS: 20_000}}, "wsd_amplification", "high", nil, "WS-Discovery amplification"},
		{"unknown reflection", []pcapgen.Mix{{Kind: pcapgen.Reflected(ip, 37810, 600), PPS: 20_000}}, "reflection_37810", "medium", nil, "reflection from UDP port 37810"},
		{"fragment flood", []pcapgen.Mix{{Kind: pcapgen.Fragments(ip, 1000), PPS: 20_000}}, "fragment_flood", "high", nil, "IP fragment flood"},
		{"gre flood", []pcapgen.Mix{{Kind: pcapgen.GREFlood(ip, 512), PPS: 20_000}}, "gre_flood", "medium", nil, "GRE flood"},
		{"multi-vector", []pcapgen.Mix{{Kind: pcapgen.TCPFlags(ip, 443, true, false, false, false), PPS: 25_000}, {Kind: pcapgen.Reflected(ip, 53, 1400), PPS: 12_000}},
			"syn_flood", "high", []string{"syn_flood", "dns_amplification"}, "Multi-vector attack: SYN flood + DNS amplification on 203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events := replay(t, attackScenario(tt.attack...), 0)
			checkLifecycle(t, events, "203.0.113.7")
			first := events[0]
			if first.Classification != tt.class || first.Severity != tt.severity {
				t.Errorf("started as %s/%s, want %s/%s", first.Classification, first.Severity, tt.class, tt.severity)
			}
			if !strings.Contains(first.Title, tt.title) {
				t.Errorf("title %q lacks %q", first.Title, tt.title)
			}
			lat := first.At.Sub(start.Add(2 * time.Second))
			if lat > time.Second {
				t.Errorf("detected %v after the first attack packet, want ≤ 1 s", lat)
			}
			t.Logf("detection latency (capture time): %v", lat)
			if tt.vectors != nil {
				var got []string
				for _, v := range first.Vectors {
					got = append(got, v.Key())
				}
				if strings.Join(got, ",") != strings.Join(tt.vectors, ",") {
					t.Errorf("vectors %v, want %v", got, tt.vectors)
				}
			}
		})
	}
}

// checkLifecycle asserts one attack on target: started, then subsiding,
// then ended, with severity and classification from the first event.
func checkLifecycle(t *testing.T, events []detect.Event, target string) {
	t.Helper()
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
		if e.Target != target || e.AttackID != events[0].AttackID {
			t.Fatalf("event %s on %s (attack %s), want one attack on %s", e.Type, e.Target, e.AttackID, target)
		}
	}
	if len(events) < 3 || events[0].Type != detect.EventStarted || events[len(events)-1].Type != detect.EventEnded {
		t.Fatalf("events %v, want started … ended", types)
	}
	if !strings.Contains(strings.Join(types, " "), detect.EventSubsiding) {
		t.Errorf("events %v lack %s", types, detect.EventSubsiding)
	}
	if events[0].Severity == "" || events[0].Classification == "" || len(events[0].Vectors) == 0 || events[0].TopSources == nil {
		t.Errorf("first event lacks severity, classification, vectors or sources: %+v", events[0])
	}
	for i, e := range events {
		if e.Seq != i+1 || e.ID != events[0].AttackID+"-"+strconv.Itoa(i+1) {
			t.Errorf("event %d: seq %d id %s", i, e.Seq, e.ID)
		}
	}
}

func TestReplayCarpetBombing(t *testing.T) {
	var mixes []pcapgen.Mix
	for i := 1; i <= 64; i++ {
		mixes = append(mixes, pcapgen.Mix{Kind: pcapgen.UDPFlood(net.IPv4(203, 0, 113, byte(i)), 256), PPS: 1000})
	}
	s := attackScenario(mixes...)
	events := replay(t, s, 0)
	var carpet []detect.Event
	for _, e := range events {
		if e.Target != "203.0.113.0/24" {
			t.Fatalf("a single address was reported: %s %s", e.Type, e.Target)
		}
		carpet = append(carpet, e)
	}
	checkLifecycle(t, carpet, "203.0.113.0/24")
	if carpet[0].Vectors[0].Type != detect.VectorCarpet || carpet[0].Vectors[1].Key() != "udp_flood" {
		t.Errorf("vectors %+v", carpet[0].Vectors)
	}
}

func TestBenignTrafficRaisesNothing(t *testing.T) {
	resolver := net.IPv4(203, 0, 113, 53)
	tests := []struct {
		name  string
		mixes []pcapgen.Mix
	}{
		{"busy web server", []pcapgen.Mix{{Kind: pcapgen.WebClients(victim), PPS: 12_000}}},
		{"large file transfer", []pcapgen.Mix{{Kind: pcapgen.BulkUpload(victim), PPS: 8_000}, {Kind: pcapgen.WebClients(victim), PPS: 1_000}}},
		{"resolver and web mix", []pcapgen.Mix{{Kind: pcapgen.DNSQueries(resolver), PPS: 6_000}, {Kind: pcapgen.WebClients(victim), PPS: 6_000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events := replay(t, pcapgen.Scenario{Start: start, Phases: []pcapgen.Phase{{Duration: 20 * time.Second, Mixes: tt.mixes}}}, 0)
			for _, e := range events {
				t.Errorf("false alarm: %s %s", e.Type, e.Title)
			}
		})
	}
}

// TestReplaySpeedDoesNotMatter replays one capture as fast as possible and
// at ten times the recorded speed: the events are the same.
func TestReplaySpeedDoesNotMatter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syn.pcap")
	s := attackScenario(pcapgen.Mix{Kind: pcapgen.TCPFlags(victim, 80, true, false, false, false), PPS: 20_000})
	if _, err := pcapgen.Write(path, s); err != nil {
		t.Fatal(err)
	}
	fast := replayFile(t, path, 0)
	paced := replayFile(t, path, 10)
	if len(fast) != len(paced) {
		t.Fatalf("%d events as fast as possible, %d at 10x", len(fast), len(paced))
	}
	for i := range fast {
		if fast[i].ID != paced[i].ID || fast[i].Type != paced[i].Type || !fast[i].At.Equal(paced[i].At) || fast[i].PeakPPS != paced[i].PeakPPS {
			t.Errorf("event %d differs: %+v vs %+v", i, fast[i], paced[i])
		}
	}
}
