package capture

import (
	"encoding/binary"
	"testing"

	"github.com/stormwatch/stormwatch/internal/detect"
)

// netflowV5 is a NetFlow v5 datagram with one UDP record.
func netflowV5() []byte {
	b := make([]byte, 24+48)
	binary.BigEndian.PutUint16(b[0:], 5)
	binary.BigEndian.PutUint16(b[2:], 1)
	r := b[24:]
	copy(r[0:], []byte{198, 51, 100, 7})
	copy(r[4:], []byte{203, 0, 113, 10})
	binary.BigEndian.PutUint32(r[16:], 1000) // packets
	binary.BigEndian.PutUint32(r[20:], 64000)
	binary.BigEndian.PutUint16(r[32:], 53)
	binary.BigEndian.PutUint16(r[34:], 40000)
	r[38] = 17
	return b
}

// FuzzNetFlow feeds arbitrary datagrams (NetFlow v5, v9, IPFIX) to the
// collector's decoder, template state kept across inputs as from a real
// exporter: it must never panic, and what it returns must be usable.
func FuzzNetFlow(f *testing.F) {
	f.Add(netflowV5())
	f.Add([]byte{0, 9, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 10, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	c := &FlowCollector{kind: FlowNetFlow, sampling: 1, exp: map[string]*exporter{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := c.decodeNetFlow("192.0.2.1:2055", data, nil)
		if err == nil {
			checkPackets(t, out)
		}
	})
}

// FuzzSFlow feeds arbitrary datagrams to the sFlow decoder.
func FuzzSFlow(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add(make([]byte, 64))
	c := &FlowCollector{kind: FlowSFlow, sampling: 1, exp: map[string]*exporter{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := c.decodeSFlow(data, nil)
		if err == nil {
			checkPackets(t, out)
		}
	})
}

func checkPackets(t *testing.T, ps []detect.Packet) {
	t.Helper()
	if len(ps) > 1<<20 {
		t.Fatalf("%d packets from one datagram", len(ps))
	}
}
