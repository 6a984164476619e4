// Package pcapgen writes test captures of attacks and of benign traffic,
// serialised with gopacket, so that every capture the tests replay is made
// by code in the repository. A scenario is a list of phases; each phase
// mixes traffic kinds at given packet rates for a duration.
package pcapgen

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Kind makes the frames of one kind of traffic: variants distinct frames
// (different sources, ports, sizes), replayed in turn.
type Kind func(rng *rand.Rand, variant int) []gopacket.SerializableLayer

// Mix is one kind of traffic at a packet rate.
type Mix struct {
	Kind Kind
	PPS  int
}

// Phase is traffic of several kinds for a while.
type Phase struct {
	Duration time.Duration
	Mixes    []Mix
}

// Scenario is a capture: phases one after the other from Start.
type Scenario struct {
	Start  time.Time
	Phases []Phase
	// Variants is how many distinct frames each kind makes (sources,
	// ports, sizes), 512 when zero.
	Variants int
}

// defaultVariants is how many distinct frames each kind makes by default.
const defaultVariants = 512

// Write serialises the scenario into a pcap file at path and returns the
// number of packets written.
func Write(path string, s Scenario) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	variants := s.Variants
	if variants <= 0 {
		variants = defaultVariants
	}
	n := 0
	at := s.Start
	for _, ph := range s.Phases {
		type stream struct {
			frames [][]byte
			every  time.Duration
			next   time.Time
			i      int
		}
		var streams []*stream
		for _, m := range ph.Mixes {
			st := &stream{every: time.Second / time.Duration(m.PPS), next: at}
			for v := range variants {
				buf := gopacket.NewSerializeBuffer()
				opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
				if err := gopacket.SerializeLayers(buf, opts, m.Kind(rng, v)...); err != nil {
					return n, fmt.Errorf("serialise: %w", err)
				}
				st.frames = append(st.frames, append([]byte(nil), buf.Bytes()...))
			}
			streams = append(streams, st)
		}
		end := at.Add(ph.Duration)
		for {
			// Emit the stream whose next packet is due first.
			var s *stream
			for _, c := range streams {
				if s == nil || c.next.Before(s.next) {
					s = c
				}
			}
			if s == nil || !s.next.Before(end) {
				break
			}
			frame := s.frames[s.i%len(s.frames)]
			ci := gopacket.CaptureInfo{Timestamp: s.next, CaptureLength: len(frame), Length: len(frame)}
			if err := w.WritePacket(ci, frame); err != nil {
				return n, err
			}
			s.i++
			s.next = s.next.Add(s.every)
			n++
		}
		at = end
	}
	return n, nil
}

func eth() *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
}

func ip4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 57, Protocol: proto, SrcIP: src, DstIP: dst}
}

// Spoofed returns a public source address for variant v: distinct for
// every variant (up to 16 million), scattered like spoofed addresses.
func Spoofed(rng *rand.Rand, v int) net.IP {
	_ = rng
	x := uint32(v) * 2654435761 // spread consecutive variants apart
	return net.IPv4(byte(11+(x>>24)%180), byte(x>>16), byte(x>>8), byte(v))
}

func payload(n int) gopacket.Payload { return make([]byte, n) }

// UDPFlood sends UDP packets of size bytes of payload to random ports.
func UDPFlood(dst net.IP, size int) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(Spoofed(rng, v), dst, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(1024 + rng.IntN(60000)), DstPort: layers.UDPPort(1 + rng.IntN(65000))}
		_ = udp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{eth(), ip, udp, payload(size)}
	}
}

// Reflected sends responses from a UDP source port (an amplification or
// reflection service) of size bytes from a pool of reflectors.
func Reflected(dst net.IP, srcPort uint16, size int) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(net.IPv4(byte(20+v%200), byte(v/200), byte(rng.IntN(256)), 53), dst, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(srcPort), DstPort: layers.UDPPort(1024 + rng.IntN(60000))}
		_ = udp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{eth(), ip, udp, payload(size - 28)}
	}
}

// TCPFlags sends bare TCP segments with the given flags to port, from
// spoofed sources.
func TCPFlags(dst net.IP, port uint16, syn, ack, rst, fin bool) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(Spoofed(rng, v), dst, layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: layers.TCPPort(1024 + rng.IntN(60000)), DstPort: layers.TCPPort(port),
			SYN: syn, ACK: ack, RST: rst, FIN: fin, Seq: rng.Uint32(), Window: 64240}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{eth(), ip, tcp}
	}
}

// ICMPFlood sends echo requests with size bytes of payload.
func ICMPFlood(dst net.IP, size int) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(Spoofed(rng, v), dst, layers.IPProtocolICMPv4)
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: uint16(v), Seq: 1}
		return []gopacket.SerializableLayer{eth(), ip, icmp, payload(size)}
	}
}

// Fragments sends non-first IP fragments of UDP datagrams.
func Fragments(dst net.IP, size int) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(Spoofed(rng, v), dst, layers.IPProtocolUDP)
		ip.Flags = layers.IPv4MoreFragments
		ip.FragOffset = uint16(1 + rng.IntN(100))
		ip.Id = uint16(v)
		return []gopacket.SerializableLayer{eth(), ip, payload(size)}
	}
}

// GREFlood sends GRE packets carrying junk.
func GREFlood(dst net.IP, size int) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		ip := ip4(Spoofed(rng, v), dst, layers.IPProtocolGRE)
		gre := &layers.GRE{Protocol: layers.EthernetTypeIPv4}
		return []gopacket.SerializableLayer{eth(), ip, gre, payload(size)}
	}
}

// WebClients is a busy web server's traffic with many keep-alive
// clients, both ways: requests and ACKs in, answers out (even variants go
// in, odd ones answer them on the same connection).
func WebClients(dst net.IP) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		conn := v / 2
		src := net.IPv4(byte(81+conn%60), byte(conn>>8), byte(conn), byte(1+conn%254))
		port := layers.TCPPort(32768 + conn%28000)
		if v%2 == 1 {
			ip := ip4(dst, src, layers.IPProtocolTCP)
			tcp := &layers.TCP{SrcPort: 443, DstPort: port, ACK: true, PSH: true, Window: 501, Seq: rng.Uint32()}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			return []gopacket.SerializableLayer{eth(), ip, tcp, payload(400 + rng.IntN(1000))}
		}
		ip := ip4(src, dst, layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: port, DstPort: 443, ACK: true, Window: 501, Seq: rng.Uint32()}
		var body gopacket.Payload
		if conn%4 == 0 {
			tcp.PSH = true
			body = payload(300 + rng.IntN(900)) // requests
		}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		out := []gopacket.SerializableLayer{eth(), ip, tcp}
		if body != nil {
			out = append(out, body)
		}
		return out
	}
}

// BulkUpload is one client sending a large file to the server: full-size
// data segments in, the server's ACKs out (every eighth variant).
func BulkUpload(dst net.IP) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		client := net.IPv4(198, 18, 0, 10)
		if v%8 == 7 {
			ip := ip4(dst, client, layers.IPProtocolTCP)
			tcp := &layers.TCP{SrcPort: 22, DstPort: 51000, ACK: true, Ack: uint32(v * 1448), Window: 2048}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			return []gopacket.SerializableLayer{eth(), ip, tcp}
		}
		ip := ip4(client, dst, layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: 51000, DstPort: 22, ACK: true, PSH: v%8 == 0, Seq: uint32(v * 1448), Window: 2048}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{eth(), ip, tcp, payload(1448)}
	}
}

// DNSQueries is ordinary DNS traffic to a resolver: small queries to port
// 53 (even variants) and its answers (odd ones).
func DNSQueries(dst net.IP) Kind {
	return func(rng *rand.Rand, v int) []gopacket.SerializableLayer {
		q := v / 2
		src := net.IPv4(100, 64, byte(q/250), byte(1+q%250))
		port := layers.UDPPort(20000 + q%40000)
		if v%2 == 1 {
			ip := ip4(dst, src, layers.IPProtocolUDP)
			udp := &layers.UDP{SrcPort: 53, DstPort: port}
			_ = udp.SetNetworkLayerForChecksum(ip)
			return []gopacket.SerializableLayer{eth(), ip, udp, payload(120)}
		}
		ip := ip4(src, dst, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: port, DstPort: 53}
		_ = udp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{eth(), ip, udp, payload(40)}
	}
}
