// Package detect turns a stream of packet (or flow) summaries into attack
// events: per-tick counters per protected address, baselines and
// thresholds with hysteresis, classification of the attack vectors,
// severity, and the attack lifecycle. It is pure: time comes from the
// packets themselves (so a replay at any speed gives the same result), and
// events are returned, not sent.
package detect

import (
	"net/netip"
	"time"
)

// IP protocol numbers the detector tells apart.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoGRE    = 47
	ProtoICMPv6 = 58
)

// TCP flag bits.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
)

// Packet summarises one packet, or one flow record standing for Count
// packets and Bytes bytes (sampling already applied).
type Packet struct {
	At               time.Time
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	TCPFlags         uint8
	// Fragment is set for IP fragments other than the first, and for
	// first fragments with more to come; LaterFragment for those other
	// than the first (they carry no transport header). FragID is the IP
	// identification that ties a datagram's fragments together.
	Fragment, LaterFragment bool
	FragID                  uint32
	// ICMPType is the ICMP (or ICMPv6) message type.
	ICMPType uint8
	// Size is the IP length of one packet.
	Size uint16
	// Count and Bytes weigh the record: 1 and Size for a captured packet.
	Count, Bytes uint64
	// Flow marks a flow record: its TCP flags are those of all its
	// packets together, and its packets were not seen one by one.
	Flow bool
	// Sampled marks a record that stands for packets seen 1 in Count
	// (sFlow): too few of a conversation's packets are seen to follow
	// its state, so only what a packet shows on its own is judged.
	Sampled bool
}

// ICMP message types the detector tells apart.
const (
	ICMPEchoReply     = 0
	ICMPEchoRequest   = 8
	ICMPv6EchoRequest = 128
	ICMPv6EchoReply   = 129
)
