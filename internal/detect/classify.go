package detect

import (
	"fmt"
	"sort"
	"strings"

	sw "github.com/stormwatch/stormwatch"
)

// minShare is the share of a window's packets that makes a vector.
const minShare = 0.2

// classify names the vectors of a window's traffic, the largest first.
// topPort is the dominant UDP source port and topShare its share of the
// UDP packets that carry ports.
func classify(c *counters, topPort uint16, topShare float64) []Vector {
	total := float64(c.pkts)
	if total == 0 {
		return nil
	}
	var out []Vector
	add := func(typ, proto string, pkts, bytes uint64, conf float64) {
		if float64(pkts)/total < minShare {
			return
		}
		out = append(out, Vector{Type: typ, Proto: proto, PPS: pkts, BPS: bytes * 8, Confidence: clamp01(conf)})
	}
	// Fragments without a UDP header are judged as fragments below.
	udpLeft := c.classPkts[classUDP] - min(c.fragUDP, c.classPkts[classUDP])
	udpBytesLeft := c.classBytes[classUDP] - min(c.classBytes[classUDP], c.fragUDP*uint64(avgSize(c)))
	for i, s := range sw.Services {
		n := c.servicePkts[i]
		if float64(n)/total < minShare {
			continue
		}
		avg := float64(c.serviceBytes[i]) / float64(n)
		conf := float64(n) / total
		if avg >= 400 { // amplified responses are large
			conf += 0.2
		}
		out = append(out, Vector{Type: VectorAmplification, Service: s.Key, Port: s.Port, Proto: "udp", PPS: n,
			BPS: c.serviceBytes[i] * 8, Confidence: clamp01(conf)})
		udpLeft -= n
		udpBytesLeft -= c.serviceBytes[i]
	}
	// A source port that is no known service but carries most of the UDP
	// traffic is reflection through something else.
	topPortPkts := uint64(topShare * float64(c.classPkts[classUDP]-min(c.fragUDP, c.classPkts[classUDP])))
	if servicePort[topPort] < 0 && topShare >= 0.5 && topPortPkts <= udpLeft && float64(topPortPkts)/total >= minShare {
		bytes := udpBytesLeft * topPortPkts / max(udpLeft, 1)
		out = append(out, Vector{Type: VectorReflection, Port: topPort, Proto: "udp", PPS: topPortPkts, BPS: bytes * 8,
			Confidence: clamp01(float64(topPortPkts) / total)})
		udpLeft -= topPortPkts
		udpBytesLeft -= bytes
	}
	add(VectorUDPFlood, "udp", udpLeft, udpBytesLeft, float64(udpLeft)/total)

	tcp := c.classPkts[classTCP]
	tcpBytes := c.classBytes[classTCP]
	perPkt := func(n uint64) uint64 { return tcpBytes * n / max(tcp, 1) }
	add(VectorSYNFlood, "tcp", c.syn, perPkt(c.syn), float64(c.syn)/total+0.1)
	add(VectorRSTFINFlood, "tcp", c.rst+c.fin, perPkt(c.rst+c.fin), float64(c.rst+c.fin)/total)
	add(VectorACKFlood, "tcp", c.ackOnly, perPkt(c.ackOnly), float64(c.ackOnly)/total)
	rest := tcp - min(tcp, c.syn+c.rst+c.fin+c.ackOnly)
	add(VectorTCPFlood, "tcp", rest, perPkt(rest), float64(rest)/total)
	add(VectorICMPFlood, "icmp", c.classPkts[classICMP], c.classBytes[classICMP], float64(c.classPkts[classICMP])/total)
	add(VectorGREFlood, "gre", c.classPkts[classGRE], c.classBytes[classGRE], float64(c.classPkts[classGRE])/total)

	// Fragments of amplified responses belong to the amplification; only
	// fragments that nothing else explains make a fragment flood.
	frag := c.frag
	for _, v := range out {
		if v.Type == VectorAmplification {
			frag -= min(frag, 2*v.PPS)
		}
	}
	add(VectorFragmentFlood, "ip", frag, frag*uint64(avgSize(c)), float64(frag)/total)

	if len(out) == 0 {
		out = append(out, Vector{Type: VectorOther, Proto: "ip", PPS: c.pkts, BPS: c.bytes * 8, Confidence: 0.3})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PPS > out[j].PPS })
	return out
}

func avgSize(c *counters) float64 {
	if c.pkts == 0 {
		return 0
	}
	return float64(c.bytes) / float64(c.pkts)
}

func clamp01(x float64) float64 {
	switch {
	case x < 0:
		return 0
	case x > 1:
		return 1
	}
	return float64(int(x*100+0.5)) / 100
}

// Title is the human summary of an attack: "UDP flood (DNS amplification)
// on 203.0.113.7 — 3.2 Gbps".
func Title(vectors []Vector, target string, peakPPS, peakBPS uint64) string {
	var what string
	if len(vectors) == 0 {
		what = "Traffic flood"
	} else {
		v := vectors[0]
		switch v.Type {
		case VectorAmplification, VectorReflection:
			what = "UDP flood (" + v.Name() + ")"
		default:
			what = v.Name()
		}
		if len(vectors) > 1 {
			what = "Multi-vector attack: " + what
			for _, o := range vectors[1:] {
				what += " + " + o.Name()
			}
		}
		what = strings.ToUpper(what[:1]) + what[1:]
	}
	return fmt.Sprintf("%s on %s — %s", what, target, FormatRate(peakPPS, peakBPS))
}

// FormatRate shows the bit rate, or the packet rate for packet floods of
// small packets where it says more.
func FormatRate(pps, bps uint64) string {
	if bps >= 100_000_000 || pps < 100_000 {
		return formatUnit(float64(bps), "bps")
	}
	return formatUnit(float64(pps), "pps")
}

func formatUnit(x float64, unit string) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.1f G%s", x/1e9, unit)
	case x >= 1e6:
		return fmt.Sprintf("%.1f M%s", x/1e6, unit)
	case x >= 1e3:
		return fmt.Sprintf("%.1f k%s", x/1e3, unit)
	}
	return fmt.Sprintf("%.0f %s", x, unit)
}
