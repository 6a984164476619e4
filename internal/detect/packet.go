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
	// first fragments with more to come.
	Fragment bool
	// Size is the IP length of one packet.
	Size uint16
	// Count and Bytes weigh the record: 1 and Size for a captured packet.
	Count, Bytes uint64
}
