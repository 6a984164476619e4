package capture

import (
	"encoding/binary"

	"github.com/stormwatch/stormwatch/internal/detect"
)

// RecordFrame writes into buf, and returns, a raw IP frame (LinkRaw)
// standing for flow record p: its addresses, protocol, ports, TCP flags
// and ICMP type, the IP length of one of its packets. Forensic tools read
// what a flow exporter saw as packets this way; the record's counts go in
// the frame's comment (pcapring.WriteNG).
func RecordFrame(p *detect.Packet, buf []byte) []byte {
	var transport []byte
	var th [20]byte
	switch p.Proto {
	case detect.ProtoTCP:
		binary.BigEndian.PutUint16(th[0:], p.SrcPort)
		binary.BigEndian.PutUint16(th[2:], p.DstPort)
		th[12] = 5 << 4
		th[13] = p.TCPFlags
		transport = th[:20]
	case detect.ProtoUDP:
		binary.BigEndian.PutUint16(th[0:], p.SrcPort)
		binary.BigEndian.PutUint16(th[2:], p.DstPort)
		binary.BigEndian.PutUint16(th[4:], uint16(max(8, int(p.Size)-20)))
		transport = th[:8]
	case detect.ProtoICMP, detect.ProtoICMPv6:
		th[0] = p.ICMPType
		transport = th[:8]
	}
	buf = buf[:0]
	if p.Dst.Is4() {
		var h [20]byte
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(max(int(p.Size), 20+len(transport))))
		h[8] = 64
		h[9] = p.Proto
		s, d := p.Src.As4(), p.Dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		binary.BigEndian.PutUint16(h[10:], ipChecksum(h[:]))
		buf = append(buf, h[:]...)
	} else {
		var h [40]byte
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(max(int(p.Size)-40, len(transport))))
		h[6] = p.Proto
		h[7] = 64
		s, d := p.Src.As16(), p.Dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
		buf = append(buf, h[:]...)
	}
	return append(buf, transport...)
}

// ipChecksum is the IPv4 header checksum (RFC 1071).
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
