package agent

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/pcapring"
)

// TestFlowRecordsReachTheCapture: a flow source's records to the
// protected prefixes land in the ring as frames made from them, and the
// pcapng says, per frame, how much traffic the record stood for; tcpdump
// and Wireshark read them as packets.
func TestFlowRecordsReachTheCapture(t *testing.T) {
	ring := pcapring.New(10*time.Second, 1<<20, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")})
	src := &FlowSource{Ring: ring}
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	batch := []detect.Packet{
		{At: at, Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("203.0.113.7"), Proto: detect.ProtoUDP, SrcPort: 53,
			DstPort: 40000, Size: 1400, Count: 1000, Bytes: 1_400_000, Flow: true},
		{At: at, Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("192.0.2.1"), Proto: detect.ProtoUDP, Size: 100, Count: 1, Bytes: 100, Flow: true},
	}
	if err := src.keep(func([]detect.Packet) error { return nil })(batch); err != nil {
		t.Fatal(err)
	}
	frames := ring.Frames(at.Add(-time.Second), at.Add(time.Second), nil)
	if len(frames) != 1 || frames[0].Count != 1000 || frames[0].Link != capture.LinkRaw {
		t.Fatalf("frames %+v", frames)
	}
	var b bytes.Buffer
	if err := pcapring.WriteNG(&b, frames, 0, "test", "test"); err != nil {
		t.Fatal(err)
	}
	nr, err := pcapgo.NewNgReader(&b, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	data, ci, opts, err := nr.ReadPacketDataWithOptions()
	if err != nil {
		t.Fatal(err)
	}
	var p detect.Packet
	if err := capture.Decode(capture.LinkRaw, data, &p); err != nil || p.Dst != batch[0].Dst || p.SrcPort != 53 || ci.Length != 1_400_000 {
		t.Errorf("the frame: %+v %v, length %d", p, err, ci.Length)
	}
	if len(opts.Comments) != 1 || !strings.Contains(opts.Comments[0], "flow record: 1000 packets, 1400000 bytes") {
		t.Errorf("comments %v", opts.Comments)
	}
}
