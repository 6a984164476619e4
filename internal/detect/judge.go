package detect

// How long conversation state is trusted, in seconds: a conversation the
// address took part in stays known for five idle minutes; a handshake or
// a first datagram waits ten seconds for its answer; a datagram's later
// fragments come within a few seconds of its first.
const (
	talkedTTL  = 300
	pendingTTL = 10
	fragTTL    = 5
)

// verdict is what a packet to a protected address is.
type verdict struct {
	sig     int    // kind of attack-shaped traffic, or noSig
	service int8   // amplification service of unsolicited UDP, or -1
	port    uint16 // source port of unsolicited UDP (0: none), for the dominant-port sketch
}

// second is the detector's clock in whole seconds, for the tables.
func (d *Detector) second() uint32 { return uint32(d.tick / windowTicks) }

// judge decides whether an inbound packet is traffic its protected
// destination asked for, and keeps the conversation state. It allocates
// nothing.
func (d *Detector) judge(p *Packet) verdict {
	v := verdict{sig: noSig, service: -1}
	// Later fragments carry no ports; flow exporters report them as
	// records of port 0.
	if p.LaterFragment || p.Flow && p.Proto == ProtoUDP && p.SrcPort == 0 && p.DstPort == 0 {
		return d.judgeFragment(p)
	}
	now := d.second()
	switch p.Proto {
	case ProtoTCP:
		d.judgeTCP(p, &v, now)
	case ProtoUDP:
		k := flowKey(p.Dst, p.Src, ProtoUDP, p.DstPort, p.SrcPort)
		switch {
		case p.Sampled || !d.talked.has(k, now, talkedTTL):
			// Sampled: too few packets are seen to know; the address's
			// outbound UDP is taken off as answers instead.
			v.sig, v.service, v.port = sigUDP, servicePort[p.SrcPort], p.SrcPort
			if !p.Sampled {
				d.pending.put(k, 0, now)
			}
		}
	case ProtoICMP, ProtoICMPv6:
		reply := p.ICMPType == ICMPEchoReply && p.Proto == ProtoICMP || p.ICMPType == ICMPv6EchoReply && p.Proto == ProtoICMPv6
		if !reply || p.Sampled || !d.talked.has(flowKey(p.Dst, p.Src, p.Proto, 0, p.SrcPort), now, talkedTTL) {
			v.sig = sigICMP
		}
	default:
		if p.Sampled || !d.talked.has(flowKey(p.Dst, p.Src, p.Proto, 0, 0), now, talkedTTL) {
			v.sig = sigOther
			if p.Proto == ProtoGRE {
				v.sig = sigGRE
			}
		}
	}
	if p.Fragment {
		// A first fragment: its later ones will be judged as it was.
		d.frags.put(fragKey(p.Src, p.Dst, p.Proto, p.FragID), packVerdict(v), now)
	}
	if v.sig == sigUDP && p.SrcPort != 0 && (p.Fragment || p.Sampled || p.Flow) {
		// The sender's latest unsolicited fragmented datagram stands for
		// fragments whose own first fragment was not seen (sampled, or
		// exported as flows without ports).
		d.frags.put(fragKey(p.Src, p.Dst, p.Proto, 0), packVerdict(v), now)
	}
	return v
}

func (d *Detector) judgeTCP(p *Packet, v *verdict, now uint32) {
	f := p.TCPFlags
	k := flowKey(p.Dst, p.Src, ProtoTCP, p.DstPort, p.SrcPort)
	syn, ack := f&FlagSYN != 0, f&FlagACK != 0
	if p.Sampled {
		// One packet in many: only what a packet shows on its own. Bare
		// SYNs are set against the rest of the address's TCP in the
		// counters (a busy server's new connections are a small share).
		switch {
		case syn && !ack:
			v.sig = sigSYN
		case syn:
			v.sig = sigSYNACK
		default:
			// A connection's life is a few packets per SYN: every four
			// others vouch for one SYN as a completed handshake.
			d.answered(p.Dst, cSynDone, p.Count/4, 0)
		}
		return
	}
	if p.Flow {
		d.judgeTCPFlow(p, v, k, now)
		return
	}
	switch {
	case syn && !ack:
		v.sig = sigSYN
		d.pending.put(k, 0, now)
	case syn: // SYN-ACK: an answer to a SYN the address sent, or reflection
		if !d.talked.has(k, now, talkedTTL) {
			v.sig = sigSYNACK
		}
	case f&(FlagRST|FlagFIN) != 0:
		if !d.talked.has(k, now, talkedTTL) && !d.pending.has(k, now, pendingTTL) {
			v.sig = sigRSTFIN
		}
	default:
		switch {
		case d.pending.take(k, now, pendingTTL):
			// The handshake completes (a port reused included): the
			// connection is one the address takes part in from now on.
			d.talked.put(k, 0, now)
			d.answered(p.Dst, cSynDone, p.Count, 0)
		case d.talked.has(k, now, talkedTTL):
		default:
			v.sig = sigACK
		}
	}
}

// judgeTCPFlow judges a flow record, whose flags are those of all its
// packets: a client's whole conversation shows SYN and ACK, a flood's
// records show one flag alone.
func (d *Detector) judgeTCPFlow(p *Packet, v *verdict, k uint64, now uint32) {
	f := p.TCPFlags
	syn, ack := f&FlagSYN != 0, f&FlagACK != 0
	talked := d.talked.has(k, now, talkedTTL)
	switch {
	case talked:
	case syn && !ack:
		v.sig = sigSYN // a handshake that never went further
	case syn && ack && f&(FlagPSH|FlagFIN) == 0 && p.Count <= 3:
		v.sig = sigSYNACK // a lone SYN-ACK for a connection never opened
	case syn && ack:
		d.talked.put(k, 0, now) // a client's handshake and what followed
	case f&(FlagRST|FlagFIN) != 0 && f&FlagPSH == 0:
		v.sig = sigRSTFIN
	case f&FlagPSH == 0:
		v.sig = sigACK // bare ACKs for a connection the address is not in
	}
}

// judgeFragment judges a later fragment as its datagram's first fragment
// was judged; one whose first fragment was never seen is a fragment
// flood, unless the address talks to its sender.
func (d *Detector) judgeFragment(p *Packet) verdict {
	now := d.second()
	if val, ok := d.frags.get(fragKey(p.Src, p.Dst, p.Proto, p.FragID), now, fragTTL); ok && !p.Flow {
		return unpackVerdict(val)
	}
	if p.Sampled || p.Flow || p.Proto == ProtoUDP {
		if val, ok := d.frags.get(fragKey(p.Src, p.Dst, p.Proto, 0), now, fragTTL); ok {
			return unpackVerdict(val)
		}
	}
	if d.talked.has(flowKey(p.Dst, p.Src, p.Proto, 0, 0), now, talkedTTL) {
		return verdict{sig: noSig, service: -1}
	}
	return verdict{sig: sigFrag, service: -1}
}

func packVerdict(v verdict) uint32 {
	return uint32(v.sig) | uint32(uint8(v.service))<<8 | uint32(v.port)<<16
}

func unpackVerdict(x uint32) verdict {
	return verdict{sig: int(x & 0xff), service: int8(uint8(x >> 8)), port: uint16(x >> 16)}
}

// outbound learns from a packet a protected address sends: the
// conversations it takes part in, and the datagrams it answers.
func (d *Detector) outbound(p *Packet) {
	now := d.second()
	switch p.Proto {
	case ProtoTCP:
		f := p.TCPFlags
		// A RST refuses and a SYN-ACK only answers a SYN: neither makes
		// the address part of a conversation (it sends both to floods).
		if p.Sampled || f&FlagRST != 0 || f&(FlagSYN|FlagACK) == FlagSYN|FlagACK && !p.Flow {
			return
		}
		d.talked.put(flowKey(p.Src, p.Dst, ProtoTCP, p.SrcPort, p.DstPort), 0, now)
	case ProtoUDP:
		if p.LaterFragment {
			return
		}
		k := flowKey(p.Src, p.Dst, ProtoUDP, p.SrcPort, p.DstPort)
		if p.Sampled || d.pending.take(k, now, pendingTTL) {
			d.answered(p.Src, cUDPAnswered, p.Count, p.Bytes)
		}
		if !p.Sampled {
			d.talked.put(k, 0, now)
		}
	case ProtoICMP, ProtoICMPv6:
		if p.ICMPType == ICMPEchoRequest && p.Proto == ProtoICMP || p.ICMPType == ICMPv6EchoRequest && p.Proto == ProtoICMPv6 {
			d.talked.put(flowKey(p.Src, p.Dst, p.Proto, 0, p.SrcPort), 0, now)
		}
	default:
		if !p.LaterFragment {
			d.talked.put(flowKey(p.Src, p.Dst, p.Proto, 0, 0), 0, now)
		}
	}
}
