package detect

import sw "github.com/stormwatch/stormwatch"

// Protocol classes counted separately.
const (
	classTCP = iota
	classUDP
	classICMP
	classGRE
	classOther
	nClasses
)

func protoClass(p uint8) int {
	switch p {
	case ProtoTCP:
		return classTCP
	case ProtoUDP:
		return classUDP
	case ProtoICMP, ProtoICMPv6:
		return classICMP
	case ProtoGRE:
		return classGRE
	}
	return classOther
}

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

// Packet size buckets: <128, <512, <1024, ≥1024 bytes.
const nSizes = 4

func sizeBucket(n uint16) int {
	switch {
	case n < 128:
		return 0
	case n < 512:
		return 1
	case n < 1024:
		return 2
	}
	return 3
}

// counters are the counts of one tick (or, summed, of a window).
type counters struct {
	pkts, bytes  uint64
	classPkts    [nClasses]uint64
	classBytes   [nClasses]uint64
	syn, synAck  uint64
	ackOnly      uint64
	rst, fin     uint64
	frag         uint64
	fragUDP      uint64 // UDP fragments without their header (no ports)
	sizes        [nSizes]uint64
	servicePkts  [nServices]uint64
	serviceBytes [nServices]uint64
}

func (c *counters) add(p *Packet) {
	n, b := p.Count, p.Bytes
	c.pkts += n
	c.bytes += b
	k := protoClass(p.Proto)
	c.classPkts[k] += n
	c.classBytes[k] += b
	c.sizes[sizeBucket(p.Size)] += n
	if p.Fragment {
		c.frag += n
		if k == classUDP && p.SrcPort == 0 {
			c.fragUDP += n
		}
	}
	switch k {
	case classTCP:
		f := p.TCPFlags
		switch {
		case f&FlagSYN != 0 && f&FlagACK == 0:
			c.syn += n
		case f&FlagSYN != 0:
			c.synAck += n
		case f&(FlagRST|FlagFIN) != 0:
			if f&FlagRST != 0 {
				c.rst += n
			} else {
				c.fin += n
			}
		case f&FlagACK != 0 && f&FlagPSH == 0 && p.Size < 100:
			// Bare ACKs: bulk data segments (large) are not ACK floods.
			c.ackOnly += n
		}
	case classUDP:
		if s := servicePort[p.SrcPort]; s >= 0 {
			c.servicePkts[s] += n
			c.serviceBytes[s] += b
		}
	}
}

func (c *counters) plus(o *counters) {
	c.pkts += o.pkts
	c.bytes += o.bytes
	for i := range c.classPkts {
		c.classPkts[i] += o.classPkts[i]
		c.classBytes[i] += o.classBytes[i]
	}
	c.syn += o.syn
	c.synAck += o.synAck
	c.ackOnly += o.ackOnly
	c.rst += o.rst
	c.fin += o.fin
	c.frag += o.frag
	c.fragUDP += o.fragUDP
	for i := range c.sizes {
		c.sizes[i] += o.sizes[i]
	}
	for i := range c.servicePkts {
		c.servicePkts[i] += o.servicePkts[i]
		c.serviceBytes[i] += o.serviceBytes[i]
	}
}

func (c *counters) minus(o *counters) {
	c.pkts -= o.pkts
	c.bytes -= o.bytes
	for i := range c.classPkts {
		c.classPkts[i] -= o.classPkts[i]
		c.classBytes[i] -= o.classBytes[i]
	}
	c.syn -= o.syn
	c.synAck -= o.synAck
	c.ackOnly -= o.ackOnly
	c.rst -= o.rst
	c.fin -= o.fin
	c.frag -= o.frag
	c.fragUDP -= o.fragUDP
	for i := range c.sizes {
		c.sizes[i] -= o.sizes[i]
	}
	for i := range c.servicePkts {
		c.servicePkts[i] -= o.servicePkts[i]
		c.serviceBytes[i] -= o.serviceBytes[i]
	}
}

// scale multiplies every count by num/den, to turn the counts of a part
// of a second into rates.
func (c *counters) scale(num, den uint64) {
	f := func(x *uint64) { *x = *x * num / den }
	f(&c.pkts)
	f(&c.bytes)
	for i := range c.classPkts {
		f(&c.classPkts[i])
		f(&c.classBytes[i])
	}
	for _, x := range []*uint64{&c.syn, &c.synAck, &c.ackOnly, &c.rst, &c.fin, &c.frag, &c.fragUDP} {
		f(x)
	}
	for i := range c.sizes {
		f(&c.sizes[i])
	}
	for i := range c.servicePkts {
		f(&c.servicePkts[i])
		f(&c.serviceBytes[i])
	}
}
