package capture

import (
	"net/netip"
	"testing"

	"github.com/stormwatch/stormwatch/internal/detect"
)

// TestRecordFrameDecodesBack: a frame made from a flow record decodes to
// the record's addresses, protocol, ports, flags and size.
func TestRecordFrameDecodesBack(t *testing.T) {
	for _, p := range []detect.Packet{
		{Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("203.0.113.7"), Proto: detect.ProtoUDP, SrcPort: 53, DstPort: 40000, Size: 1400},
		{Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("203.0.113.7"), Proto: detect.ProtoTCP, SrcPort: 4444, DstPort: 443, TCPFlags: 0x02, Size: 60},
		{Src: netip.MustParseAddr("2001:db8::9"), Dst: netip.MustParseAddr("2001:db8::7"), Proto: detect.ProtoUDP, SrcPort: 123, DstPort: 5000, Size: 468},
		{Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("203.0.113.7"), Proto: detect.ProtoICMP, ICMPType: 8, Size: 84},
	} {
		var got detect.Packet
		frame := RecordFrame(&p, nil)
		if err := Decode(LinkRaw, frame, &got); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if got.Src != p.Src || got.Dst != p.Dst || got.Proto != p.Proto || got.SrcPort != p.SrcPort || got.DstPort != p.DstPort ||
			got.TCPFlags != p.TCPFlags || got.Size != p.Size || got.ICMPType != p.ICMPType {
			t.Errorf("record %+v decoded as %+v", p, got)
		}
	}
}
