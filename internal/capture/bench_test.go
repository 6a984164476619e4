package capture_test

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/pcapring"
)

// frames serialises a mix of attack and normal frames to replay from memory.
func frames(b *testing.B) [][]byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []pcapgen.Kind{
		pcapgen.Reflected(victim, 53, 1400), pcapgen.TCPFlags(victim, 443, true, false, false, false),
		pcapgen.UDPFlood(net.IPv4(203, 0, 113, 9), 64), pcapgen.WebClients(net.IPv4(203, 0, 113, 10)),
	}
	var out [][]byte
	for i := range 1024 {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			kinds[i%len(kinds)](rng, i)...); err != nil {
			b.Fatal(err)
		}
		out = append(out, append([]byte(nil), buf.Bytes()...))
	}
	return out
}

// BenchmarkDecode is the floor: reading the fields detection needs.
func BenchmarkDecode(b *testing.B) {
	fs := frames(b)
	var p detect.Packet
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := capture.Decode(capture.LinkEthernet, fs[i&1023], &p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeAndAccount is the agent's per-packet hot path: decode a
// frame and account it in the detector (ticks close as time moves on at
// 1 Mpps of capture time).
func BenchmarkDecodeAndAccount(b *testing.B) {
	fs := frames(b)
	s := detect.DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	d := detect.New(s)
	var p detect.Packet
	at := time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := capture.Decode(capture.LinkEthernet, fs[i&1023], &p); err != nil {
			b.Fatal(err)
		}
		p.At = at.Add(time.Duration(i) * time.Microsecond)
		d.Observe(&p)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkDecodeAndAccountWithRing is BenchmarkDecodeAndAccount with the
// pre-attack ring on (default window and memory): what keeping the
// evidence costs per packet, the ring sampling as it does under a flood
// (the frames are a million a second on the capture's clock).
func BenchmarkDecodeAndAccountWithRing(b *testing.B) {
	fs := frames(b)
	s := detect.DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	d := detect.New(s)
	ring := pcapring.New(pcapring.DefaultWindow, pcapring.DefaultMaxBytes, s.Prefixes)
	var p detect.Packet
	at := time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		f := fs[i&1023]
		if err := capture.Decode(capture.LinkEthernet, f, &p); err != nil {
			b.Fatal(err)
		}
		p.At = at.Add(time.Duration(i) * time.Microsecond)
		ring.Add(p.At, capture.LinkEthernet, f, len(f), p.Dst)
		d.Observe(&p)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// heapGrowth reports, as the MB-heap metric, how much live heap a
// detector holds after feed has run n packets through it.
func heapGrowth(b *testing.B, prefix string, n int, packet func(i int, p *detect.Packet)) {
	s := detect.DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix(prefix)}
	at := time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for b.Loop() {
		before := heap()
		d := detect.New(s)
		for i := range n {
			p := detect.Packet{At: at.Add(time.Duration(i) * time.Microsecond), Proto: detect.ProtoUDP,
				SrcPort: 53, DstPort: 4444, Size: 1200, Count: 1, Bytes: 1200}
			packet(i, &p)
			d.Observe(&p)
		}
		b.ReportMetric(float64(heap()-before)/1e6, "MB-heap")
		runtime.KeepAlive(d)
	}
}

// BenchmarkMillionSources measures the detector's memory after one
// million distinct sources hit one address.
func BenchmarkMillionSources(b *testing.B) {
	dst := netip.MustParseAddr("203.0.113.7")
	heapGrowth(b, "203.0.113.0/24", 1_000_000, func(i int, p *detect.Packet) {
		p.Src = netip.AddrFrom4([4]byte{byte(10 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
		p.Dst = dst
	})
}

// BenchmarkCarpetOverSlash16 measures the detector's memory when a flood
// is spread over every address of a /16 (65 536 destinations).
func BenchmarkCarpetOverSlash16(b *testing.B) {
	src := netip.MustParseAddr("198.51.100.1")
	heapGrowth(b, "10.20.0.0/16", 1_000_000, func(i int, p *detect.Packet) {
		p.Src = src
		p.Dst = netip.AddrFrom4([4]byte{10, 20, byte(i >> 8), byte(i)})
	})
}
