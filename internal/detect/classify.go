package detect

import (
	"fmt"
	"sort"
	"strings"

	sw "github.com/stormwatch/stormwatch"
)

// minShare is the share of the attack-shaped traffic that makes a
// vector.
const minShare = 0.2

// classify names the vectors of a window's attack-shaped traffic, the
// largest first. topPort is the dominant source port of its unsolicited
// UDP and topShare that port's share of it.
func classify(c *counters, topPort uint16, topShare float64) []Vector {
	shaped, _ := c.shaped()
	total := float64(shaped)
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
	// Unsolicited UDP: by the service it comes from, then a port that
	// dominates the rest, then a plain flood. Fragments of a datagram
	// were counted with it.
	udpLeft, udpBytesLeft := c.unansweredUDP()
	// Fragments whose own datagram was never seen (flow records without
	// ports, records or packets out of order) belong to the amplified
	// answers arriving at the same time: while any service's answers
	// arrive, they all count with the largest. Only fragments nothing
	// explains are a fragment flood.
	fragLeft, fragBytesLeft := c.kind(sigFrag)
	var svcPkts, svcBytes [nServices]uint64
	largest := -1
	for i := range nServices {
		svcPkts[i] = min(c[cService+i], udpLeft)
		svcBytes[i] = min(c[cServiceBytes+i], udpBytesLeft)
		udpLeft -= svcPkts[i]
		udpBytesLeft -= svcBytes[i]
		if svcPkts[i] > 0 && (largest < 0 || svcPkts[i] > svcPkts[largest]) {
			largest = i
		}
	}
	if largest >= 0 {
		svcPkts[largest] += fragLeft
		svcBytes[largest] += fragBytesLeft
		fragLeft, fragBytesLeft = 0, 0
	}
	for i, s := range sw.Services {
		n, b := svcPkts[i], svcBytes[i]
		if float64(n)/total < minShare {
			continue
		}
		conf := float64(n) / total
		if float64(b)/float64(n) >= 400 { // amplified answers are large
			conf += 0.2
		}
		out = append(out, Vector{Type: VectorAmplification, Service: s.Key, Port: s.Port, Proto: "udp", PPS: n, BPS: b * 8,
			Confidence: clamp01(conf)})
	}
	if servicePort[topPort] < 0 && topShare >= 0.5 {
		n := min(uint64(topShare*float64(c[cSig+sigUDP])), udpLeft)
		if float64(n)/total >= minShare {
			b := udpBytesLeft * n / max(udpLeft, 1)
			out = append(out, Vector{Type: VectorReflection, Port: topPort, Proto: "udp", PPS: n, BPS: b * 8,
				Confidence: clamp01(float64(n) / total)})
			udpLeft -= n
			udpBytesLeft -= b
		}
	}
	add(VectorUDPFlood, "udp", udpLeft, udpBytesLeft, float64(udpLeft)/total)

	add(VectorFragmentFlood, "ip", fragLeft, fragBytesLeft, float64(fragLeft)/total+0.1)
	for _, k := range []struct {
		sig        int
		typ, proto string
	}{
		{sigSYN, VectorSYNFlood, "tcp"}, {sigSYNACK, VectorSYNACK, "tcp"}, {sigACK, VectorACKFlood, "tcp"},
		{sigRSTFIN, VectorRSTFINFlood, "tcp"}, {sigICMP, VectorICMPFlood, "icmp"}, {sigGRE, VectorGREFlood, "gre"},
		{sigOther, VectorOther, "ip"},
	} {
		n, b := c.kind(k.sig)
		add(k.typ, k.proto, n, b, float64(n)/total+0.1)
	}
	if len(out) == 0 {
		// Nothing dominates: name the largest kind.
		out = append(out, Vector{Type: VectorOther, Proto: "ip", PPS: shaped, Confidence: 0.3})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PPS > out[j].PPS })
	return out
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
