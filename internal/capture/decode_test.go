package capture

import (
	"net/netip"
	"testing"

	"github.com/stormwatch/stormwatch/internal/detect"
)

func TestDecode(t *testing.T) {
	eth := func(typ0, typ1 byte, rest ...byte) []byte {
		return append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, typ0, typ1}, rest...)
	}
	ipv4UDP := []byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 7,
		0, 53, 0x1f, 0x90, 0, 20, 0, 0}
	ipv4Frag := []byte{0x45, 0, 0, 40, 0, 1, 0x20, 0x10, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 7}
	tcpSYN := []byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 198, 51, 100, 1, 203, 0, 113, 7,
		0x30, 0x39, 1, 187, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0}
	ipv6UDP := append([]byte{0x60, 0, 0, 0, 0, 8, 17, 64,
		0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 0, 123, 0x10, 0, 0, 8, 0, 0)
	tests := []struct {
		name     string
		link     int
		frame    []byte
		want     detect.Packet
		wantErr  error
		checkErr bool
	}{
		{"udp over ethernet", LinkEthernet, eth(8, 0, ipv4UDP...), detect.Packet{Proto: 17, SrcPort: 53, DstPort: 8080, Size: 40, FragID: 1,
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"vlan tagged", LinkEthernet, eth(0x81, 0, append([]byte{0, 10, 8, 0}, ipv4UDP...)...), detect.Packet{Proto: 17, SrcPort: 53, DstPort: 8080, Size: 40, FragID: 1,
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"later fragment", LinkRaw, ipv4Frag, detect.Packet{Proto: 17, Fragment: true, LaterFragment: true, FragID: 1, Size: 40,
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"tcp syn", LinkRaw, tcpSYN, detect.Packet{Proto: 6, SrcPort: 12345, DstPort: 443, TCPFlags: detect.FlagSYN, Size: 40, FragID: 1,
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"ipv6 udp", LinkRaw, ipv6UDP, detect.Packet{Proto: 17, SrcPort: 123, DstPort: 4096, Size: 48,
			Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"), Count: 1, Bytes: 48}, nil, false},
		{"linux cooked v2 (tcpdump -i any)", LinkLinuxSLL2, append([]byte{8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}, ipv4UDP...),
			detect.Packet{Proto: 17, SrcPort: 53, DstPort: 8080, Size: 40, FragID: 1,
				Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"mpls over ethernet", LinkEthernet, eth(0x88, 0x47, append([]byte{0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64}, ipv4UDP...)...),
			detect.Packet{Proto: 17, SrcPort: 53, DstPort: 8080, Size: 40, FragID: 1,
				Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"bsd loopback", LinkNull, append([]byte{2, 0, 0, 0}, ipv4UDP...), detect.Packet{Proto: 17, SrcPort: 53, DstPort: 8080, Size: 40, FragID: 1,
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.7"), Count: 1, Bytes: 40}, nil, false},
		{"arp", LinkEthernet, eth(8, 6, make([]byte, 28)...), detect.Packet{}, ErrNotIP, true},
		{"truncated", LinkEthernet, eth(8, 0, 0x45, 0), detect.Packet{}, errShort, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p detect.Packet
			err := Decode(tt.link, tt.frame, &p)
			if tt.checkErr {
				if err != tt.wantErr {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || p != tt.want {
				t.Fatalf("got %+v (%v), want %+v", p, err, tt.want)
			}
		})
	}
}

// FuzzDecode feeds arbitrary frames to the decoder: it must never panic.
func FuzzDecode(f *testing.F) {
	f.Add(LinkEthernet, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(LinkRaw, []byte{0x60, 0, 0, 0, 0, 8, 44, 64})
	f.Add(LinkLinuxSLL, make([]byte, 20))
	f.Fuzz(func(t *testing.T, link int, frame []byte) {
		var p detect.Packet
		_ = Decode(link, frame, &p)
	})
}
