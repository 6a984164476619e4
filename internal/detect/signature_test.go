package detect

import (
	"net/netip"
	"testing"
	"time"
)

// traffic is a generator of packets in both directions for one scenario
// second by second; each step returns the packets of one moment.
type traffic func(i int, at time.Time) []Packet

var (
	victim = netip.MustParseAddr("203.0.113.7")
	client = netip.MustParseAddr("198.51.100.20")
)

func spoofed(i int) netip.Addr {
	x := uint32(i) * 2654435761
	return netip.AddrFrom4([4]byte{byte(11 + (x>>24)%180), byte(x >> 16), byte(x >> 8), byte(i)})
}

func tcp(src, dst netip.Addr, sport, dport uint16, flags uint8, size uint16) Packet {
	return Packet{Src: src, Dst: dst, Proto: ProtoTCP, SrcPort: sport, DstPort: dport, TCPFlags: flags, Size: size, Count: 1, Bytes: uint64(size)}
}

func udp(src, dst netip.Addr, sport, dport uint16, size uint16) Packet {
	return Packet{Src: src, Dst: dst, Proto: ProtoUDP, SrcPort: sport, DstPort: dport, Size: size, Count: 1, Bytes: uint64(size)}
}

// run feeds gen at rate steps per second for dur with default settings
// and returns the events.
func run(t *testing.T, gen traffic, rate int, dur time.Duration) []Event {
	t.Helper()
	s := DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	d := New(s)
	var out []Event
	step := time.Second / time.Duration(rate)
	i := 0
	for at := t0; at.Before(t0.Add(dur)); at = at.Add(step) {
		for _, p := range gen(i, at) {
			p.At = at
			out = append(out, d.Observe(&p)...)
		}
		i++
	}
	return append(out, d.Flush(t0.Add(dur+time.Minute))...)
}

// keepAlive is one client on a keep-alive connection: request in, answer
// and ACKs out, ACK in.
func keepAlive(i int, _ time.Time) []Packet {
	return []Packet{
		tcp(client, victim, 40000, 80, FlagACK|FlagPSH, 120),
		tcp(victim, client, 80, 40000, FlagACK|FlagPSH, 1400),
		tcp(client, victim, 40000, 80, FlagACK, 52),
	}
}

// newConnections is a client making a new connection per request (ab
// without -k): handshake, request, answer, close.
func newConnections(i int, _ time.Time) []Packet {
	port := uint16(20000 + i%40000)
	return []Packet{
		tcp(client, victim, port, 80, FlagSYN, 60),
		tcp(victim, client, 80, port, FlagSYN|FlagACK, 60),
		tcp(client, victim, port, 80, FlagACK, 52),
		tcp(client, victim, port, 80, FlagACK|FlagPSH, 120),
		tcp(victim, client, 80, port, FlagACK|FlagPSH, 600),
		tcp(client, victim, port, 80, FlagACK|FlagFIN, 52),
		tcp(victim, client, 80, port, FlagACK|FlagFIN, 52),
		tcp(client, victim, port, 80, FlagACK, 52),
	}
}

// synFlood is spoofed SYNs to a game port; the victim answers each with
// a SYN-ACK.
func synFlood(i int, _ time.Time) []Packet {
	src, port := spoofed(i), uint16(1024+i%60000)
	return []Packet{tcp(src, victim, port, 27015, FlagSYN, 60), tcp(victim, src, 27015, port, FlagSYN|FlagACK, 60)}
}

// oneSourceSYNFlood is hping3 -S from one real host: SYNs from new ports,
// the victim's SYN-ACKs, the attacker's kernel resetting them, mixed with
// a keep-alive client: SYNs are well under 90 % of the packets.
func oneSourceSYNFlood(i int, at time.Time) []Packet {
	attacker, port := netip.MustParseAddr("192.0.2.66"), uint16(1024+i%60000)
	out := []Packet{
		tcp(attacker, victim, port, 80, FlagSYN, 40),
		tcp(victim, attacker, 80, port, FlagSYN|FlagACK, 44),
		tcp(attacker, victim, port, 80, FlagRST, 40),
	}
	return append(out, keepAlive(i, at)...)
}

// dnsLookups is the victim resolving names at a high rate.
func dnsLookups(i int, _ time.Time) []Packet {
	port, resolver := uint16(30000+i%30000), netip.MustParseAddr("198.51.100.53")
	return []Packet{udp(victim, resolver, port, 53, 70), udp(resolver, victim, 53, port, 600)}
}

// dnsServer is the victim answering queries from many clients.
func dnsServer(i int, _ time.Time) []Packet {
	c, port := spoofed(i), uint16(1024+i%60000)
	return []Packet{udp(c, victim, port, 53, 70), udp(victim, c, 53, port, 300)}
}

// amplification is DNS answers the victim never asked for, from many
// resolvers, each a 3000-byte datagram in three fragments.
func amplification(i int, _ time.Time) []Packet {
	r, port := spoofed(i), uint16(1024+i%60000)
	first := udp(r, victim, 53, port, 1500)
	first.Fragment, first.FragID = true, uint32(i)
	out := []Packet{first}
	for range 2 {
		later := Packet{Src: r, Dst: victim, Proto: ProtoUDP, Size: 1500, Count: 1, Bytes: 1500, Fragment: true, LaterFragment: true, FragID: uint32(i)}
		out = append(out, later)
	}
	return out
}

// players is a game server's traffic: every player sends and receives.
func players(i int, _ time.Time) []Packet {
	p, port := netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 64)}), uint16(27005+i%64)
	return []Packet{udp(p, victim, port, 27015, 80), udp(victim, p, 27015, port, 200)}
}

// udpFlood is junk to the game port the server does not answer, with the
// players' traffic going on.
func udpFlood(i int, at time.Time) []Packet {
	return append([]Packet{udp(spoofed(i), victim, uint16(1024+i%60000), 27015, 512)}, players(i, at)...)
}

func TestSignatures(t *testing.T) {
	tests := []struct {
		name  string
		gen   traffic
		rate  int // steps per second
		class string
	}{
		{"keep-alive client at 150 kpps", keepAlive, 50_000, ""},
		{"20k new connections a second", newConnections, 20_000, ""},
		{"resolving 30k names a second", dnsLookups, 30_000, ""},
		{"DNS server answering 30k queries", dnsServer, 30_000, ""},
		{"game server with players", players, 20_000, ""},
		{"spoofed SYN flood 30 kpps", synFlood, 30_000, "syn_flood"},
		{"one-source SYN flood among normal traffic", oneSourceSYNFlood, 15_000, "syn_flood"},
		{"SYN-ACK reflection", func(i int, _ time.Time) []Packet {
			return []Packet{tcp(spoofed(i), victim, 443, uint16(1024+i%60000), FlagSYN|FlagACK, 60)}
		}, 20_000, "synack_reflection"},
		{"ACK flood", func(i int, _ time.Time) []Packet {
			return []Packet{tcp(spoofed(i), victim, uint16(1024+i%60000), 80, FlagACK, 52)}
		}, 20_000, "ack_flood"},
		{"RST flood", func(i int, _ time.Time) []Packet {
			return []Packet{tcp(spoofed(i), victim, uint16(1024+i%60000), 80, FlagRST, 40)}
		}, 20_000, "rst_fin_flood"},
		{"fragmented DNS amplification 60 Mbit/s", amplification, 1700, "dns_amplification"},
		{"UDP flood on a busy game server", udpFlood, 20_000, "udp_flood"},
		{"reflection from port 37810", func(i int, _ time.Time) []Packet {
			return []Packet{udp(spoofed(i), victim, 37810, uint16(1024+i%60000), 600)}
		}, 15_000, "reflection_37810"},
		{"fragments of nothing", func(i int, _ time.Time) []Packet {
			return []Packet{{Src: spoofed(i), Dst: victim, Proto: ProtoUDP, Size: 1000, Count: 1, Bytes: 1000, Fragment: true,
				LaterFragment: true, FragID: uint32(i)}}
		}, 15_000, "fragment_flood"},
		{"ICMP echo flood", func(i int, _ time.Time) []Packet {
			return []Packet{{Src: spoofed(i), Dst: victim, Proto: ProtoICMP, ICMPType: ICMPEchoRequest, Size: 84, Count: 1, Bytes: 84}}
		}, 15_000, "icmp_flood"},
		{"pinging at 20k a second", func(i int, _ time.Time) []Packet {
			peer := netip.MustParseAddr("198.51.100.9")
			return []Packet{{Src: victim, Dst: peer, Proto: ProtoICMP, ICMPType: ICMPEchoRequest, SrcPort: uint16(i), Size: 84, Count: 1, Bytes: 84},
				{Src: peer, Dst: victim, Proto: ProtoICMP, ICMPType: ICMPEchoReply, SrcPort: uint16(i), Size: 84, Count: 1, Bytes: 84}}
		}, 20_000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events := run(t, tt.gen, tt.rate, 5*time.Second)
			if tt.class == "" {
				for _, e := range events {
					t.Errorf("false alarm: %s %s (%s)", e.Type, e.Title, e.Reason)
				}
				return
			}
			if len(events) == 0 {
				t.Fatal("nothing detected")
			}
			first := events[0]
			if first.Classification != tt.class {
				t.Errorf("classified %s (%s), want %s; vectors %+v", first.Classification, first.Title, tt.class, first.Vectors)
			}
			if lat := first.At.Sub(t0); lat > time.Second {
				t.Errorf("detected %v after the first packet, want within 1 s", lat)
			}
			if first.Severity == "" || first.Reason == "" {
				t.Errorf("first event lacks severity or reason: %+v", first)
			}
		})
	}
}

// TestLearnedFloors: after learning, a quiet address is attacked at
// 6 kpps of attack-shaped traffic (its floor falls to 5 kpps), and a busy
// one whose own stray traffic is 8 kpps is not at 15 kpps (its floor
// rises to 5× its mean), both with every other setting as shipped.
func TestLearnedFloors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		usual, test int
		want        bool
	}{
		{"quiet host, 6 kpps", 0, 6_000, true},
		{"quiet host, 4 kpps", 0, 4_000, false},
		{"busy host, 15 kpps", 8_000, 15_000, false},
		{"busy host, 60 kpps", 8_000, 60_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSettings()
			s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
			s.Learn = time.Minute
			d := New(s)
			// The learning period: the host answers a trickle of queries
			// (so it is seen) and receives its usual stray traffic.
			var events []Event
			step := time.Millisecond
			i := 0
			for at := t0; at.Before(t0.Add(70 * time.Second)); at = at.Add(step) {
				pkts := dnsServer(i, at)
				for j := range tc.usual / 1000 {
					pkts = append(pkts, tcp(spoofed(i*16+j), victim, uint16(1024+i%60000), 80, FlagACK, 52))
				}
				for _, p := range pkts {
					p.At = at
					events = append(events, d.Observe(&p)...)
				}
				i++
			}
			if len(events) != 0 {
				t.Fatalf("the learning period raised %v", types(events))
			}
			got := feedShaped(d, t0.Add(70*time.Second), 3*time.Second, tc.test)
			if (len(got) > 0) != tc.want {
				t.Fatalf("%d pps after learning: %v, want attack %v", tc.test, types(got), tc.want)
			}
		})
	}
}

// feedShaped sends rate ACKs a second of connections the host is not in.
func feedShaped(d *Detector, from time.Time, dur time.Duration, rate int) []Event {
	var out []Event
	step := time.Second / time.Duration(rate)
	i := 0
	for at := from; at.Before(from.Add(dur)); at = at.Add(step) {
		p := tcp(spoofed(i), victim, uint16(1024+i%60000), 80, FlagACK, 52)
		p.At = at
		out = append(out, d.Observe(&p)...)
		i++
	}
	return out
}
