package detect

import sw "github.com/stormwatch/stormwatch"

// Kinds of attack-shaped traffic: what reaches a protected address that
// it did not ask for.
const (
	sigSYN    = iota // SYNs; those whose handshake completes are counted in cSynDone and taken off
	sigSYNACK        // SYN-ACKs for connections the address never opened
	sigACK           // ACKs and data of connections it takes no part in
	sigRSTFIN        // RSTs and FINs of connections it takes no part in
	sigUDP           // UDP from endpoints it never sent to; those it answers are counted in cUDPAnswered and taken off
	sigFrag          // fragments of datagrams nothing explains
	sigICMP          // ICMP but replies to its own echo requests
	sigGRE           // GRE from peers it does not tunnel with
	sigOther         // other protocols from peers it does not talk to
	nSigs
	noSig = nSigs // asked for: not attack-shaped
)

// nServices bounds the per-service counters; the index is the position in
// sw.Services.
const nServices = sw.NumServices

// servicePort maps a UDP source port to its index in Services, or -1.
var servicePort = func() [65536]int8 {
	var t [65536]int8
	for i := range t {
		t[i] = -1
	}
	for i, s := range sw.Services {
		// DTLS on 443 is also QUIC, ordinary traffic: it counts as
		// reflection only through the generic dominant-port rule.
		if s.Port != 443 {
			t[s.Port] = int8(i)
		}
	}
	return t
}()

// Positions in counters.
const (
	cPkts             = 0
	cBytes            = 1
	cSig              = 2
	cSigBytes         = cSig + nSigs
	cSynDone          = cSigBytes + nSigs
	cUDPAnswered      = cSynDone + 1
	cUDPAnsweredBytes = cUDPAnswered + 1
	cService          = cUDPAnsweredBytes + 1
	cServiceBytes     = cService + nServices
	nCounters         = cServiceBytes + nServices
)

// counters are the counts of one tick (or, summed, of a window): all
// inbound traffic, attack-shaped traffic by kind, and
// unsolicited UDP by the amplification service it comes from.
type counters [nCounters]uint64

func (c *counters) plus(o *counters) {
	for i := range c {
		c[i] += o[i]
	}
}

func (c *counters) minus(o *counters) {
	for i := range c {
		c[i] -= o[i]
	}
}

// scale multiplies every count by num/den, to turn the counts of a part
// of a second into rates.
func (c *counters) scale(num, den uint64) {
	for i := range c {
		c[i] = c[i] * num / den
	}
}

func sat(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

// unansweredSYN is the SYNs whose handshake did not complete.
func (c *counters) unansweredSYN() uint64 { return sat(c[cSig+sigSYN], c[cSynDone]) }

// unansweredUDP is the unsolicited UDP the address did not answer, in
// packets and bytes.
func (c *counters) unansweredUDP() (uint64, uint64) {
	return sat(c[cSig+sigUDP], c[cUDPAnswered]), sat(c[cSigBytes+sigUDP], c[cUDPAnsweredBytes])
}

// kind is attack-shaped traffic of kind k after what was answered is
// taken off, in packets and bytes.
func (c *counters) kind(k int) (uint64, uint64) {
	switch k {
	case sigSYN:
		n := c.unansweredSYN()
		return n, c[cSigBytes+sigSYN] * n / max(c[cSig+sigSYN], 1)
	case sigUDP:
		return c.unansweredUDP()
	}
	return c[cSig+k], c[cSigBytes+k]
}

// shaped is all attack-shaped traffic, in packets and bytes.
func (c *counters) shaped() (pps, bytes uint64) {
	for k := range nSigs {
		n, b := c.kind(k)
		pps += n
		bytes += b
	}
	return pps, bytes
}
