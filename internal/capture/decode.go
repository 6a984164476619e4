// Package capture reads traffic from packet sources (pcap and pcapng
// files, live AF_PACKET capture) and flow collectors, and turns it into
// detect.Packet summaries. Its per-packet decoder is hand-written: it reads
// only the fields detection needs, allocates nothing, and is the hot path
// of the agent.
package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/stormwatch/stormwatch/internal/detect"
)

// Link types of the frames a decoder reads (pcap LINKTYPE_ values).
const (
	LinkNull      = 0 // BSD loopback: a 4-byte address family in host order
	LinkEthernet  = 1
	LinkRaw       = 101
	LinkLoop      = 108 // OpenBSD loopback: the family in network order
	LinkLinuxSLL  = 113
	LinkIPv4      = 228
	LinkIPv6      = 229
	LinkLinuxSLL2 = 276 // what tcpdump -i any writes today
)

// ErrNotIP is returned for frames that carry no IP packet (ARP, LLDP, …),
// which detection ignores.
var ErrNotIP = errors.New("not an IP packet")

var errShort = errors.New("truncated packet")

// Decode fills p from one frame of the given link type. wireLen is the
// frame's length on the wire (captures may truncate); p.At is left alone.
func Decode(link int, frame []byte, p *detect.Packet) error {
	var ethType uint16
	switch link {
	case LinkEthernet:
		if len(frame) < 14 {
			return errShort
		}
		ethType = binary.BigEndian.Uint16(frame[12:14])
		frame = frame[14:]
		for ethType == 0x8100 || ethType == 0x88a8 { // VLAN tags
			if len(frame) < 4 {
				return errShort
			}
			ethType = binary.BigEndian.Uint16(frame[2:4])
			frame = frame[4:]
		}
		if ethType == 0x8847 || ethType == 0x8848 { // MPLS: skip the label stack
			for {
				if len(frame) < 4 {
					return errShort
				}
				bottom := frame[2]&1 != 0
				frame = frame[4:]
				if bottom {
					break
				}
			}
			if len(frame) == 0 {
				return errShort
			}
			ethType = 0x0800
			if frame[0]>>4 == 6 {
				ethType = 0x86dd
			}
		}
	case LinkLinuxSLL:
		if len(frame) < 16 {
			return errShort
		}
		ethType = binary.BigEndian.Uint16(frame[14:16])
		frame = frame[16:]
	case LinkLinuxSLL2:
		if len(frame) < 20 {
			return errShort
		}
		ethType = binary.BigEndian.Uint16(frame[0:2])
		frame = frame[20:]
	case LinkNull, LinkLoop:
		if len(frame) < 4 {
			return errShort
		}
		frame = frame[4:]
		if len(frame) == 0 {
			return errShort
		}
		ethType = 0x0800
		if frame[0]>>4 == 6 {
			ethType = 0x86dd
		}
	case LinkRaw, LinkIPv4, LinkIPv6:
		if len(frame) == 0 {
			return errShort
		}
		ethType = 0x0800
		if frame[0]>>4 == 6 {
			ethType = 0x86dd
		}
	default:
		return ErrNotIP
	}
	switch ethType {
	case 0x0800:
		return decodeIPv4(frame, p)
	case 0x86dd:
		return decodeIPv6(frame, p)
	}
	return ErrNotIP
}

func decodeIPv4(b []byte, p *detect.Packet) error {
	if len(b) < 20 || b[0]>>4 != 4 {
		return errShort
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return errShort
	}
	total := binary.BigEndian.Uint16(b[2:4])
	frag := binary.BigEndian.Uint16(b[6:8])
	offset := frag & 0x1fff
	more := frag&0x2000 != 0
	p.Proto = b[9]
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	p.Size = total
	p.Count, p.Bytes = 1, uint64(total)
	p.Fragment, p.LaterFragment = offset != 0 || more, offset != 0
	p.FragID = uint32(binary.BigEndian.Uint16(b[4:6]))
	p.SrcPort, p.DstPort, p.TCPFlags, p.ICMPType = 0, 0, 0, 0
	if offset != 0 {
		return nil // later fragments carry no transport header
	}
	transport(p, b[ihl:])
	return nil
}

func decodeIPv6(b []byte, p *detect.Packet) error {
	if len(b) < 40 || b[0]>>4 != 6 {
		return errShort
	}
	payload := binary.BigEndian.Uint16(b[4:6])
	next := b[6]
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	p.Size = payload + 40
	p.Count, p.Bytes = 1, uint64(payload)+40
	p.Fragment, p.LaterFragment, p.FragID = false, false, 0
	p.SrcPort, p.DstPort, p.TCPFlags, p.ICMPType = 0, 0, 0, 0
	rest := b[40:]
	// Walk the extension headers that may precede the transport header.
	for range 8 {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(rest) < 8 {
				p.Proto = next
				return nil
			}
			l := (int(rest[1]) + 1) * 8
			if len(rest) < l {
				p.Proto = next
				return nil
			}
			next, rest = rest[0], rest[l:]
		case 44: // fragment
			if len(rest) < 8 {
				p.Proto = next
				return nil
			}
			off := binary.BigEndian.Uint16(rest[2:4])
			p.Fragment, p.LaterFragment = true, off>>3 != 0
			p.FragID = binary.BigEndian.Uint32(rest[4:8])
			next = rest[0]
			if off>>3 != 0 {
				p.Proto = next
				return nil
			}
			rest = rest[8:]
		default:
			p.Proto = next
			transport(p, rest)
			return nil
		}
	}
	p.Proto = next
	return nil
}

// transport reads ports and TCP flags, when the header is all there.
func transport(p *detect.Packet, b []byte) {
	switch p.Proto {
	case detect.ProtoTCP:
		if len(b) >= 14 {
			p.SrcPort = binary.BigEndian.Uint16(b[0:2])
			p.DstPort = binary.BigEndian.Uint16(b[2:4])
			p.TCPFlags = b[13]
		}
	case detect.ProtoUDP:
		if len(b) >= 4 {
			p.SrcPort = binary.BigEndian.Uint16(b[0:2])
			p.DstPort = binary.BigEndian.Uint16(b[2:4])
		}
	case detect.ProtoICMP, detect.ProtoICMPv6:
		if len(b) >= 6 {
			p.ICMPType = b[0]
			// The echo identifier, as a port: it ties a reply to its request.
			p.SrcPort = binary.BigEndian.Uint16(b[4:6])
		}
	}
}
