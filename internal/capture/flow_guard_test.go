package capture

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// flowDatagram is a NetFlow v9 or IPFIX datagram of the given sets (each
// an id and its body).
func flowDatagram(version uint16, sets ...[]byte) []byte {
	b := make([]byte, 20)
	if version == 10 {
		b = b[:16]
	}
	binary.BigEndian.PutUint16(b, version)
	for _, s := range sets {
		b = append(b, s...)
	}
	if version == 10 {
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	} else {
		binary.BigEndian.PutUint16(b[2:], uint16(len(sets)))
	}
	return b
}

func set(id uint16, body ...byte) []byte {
	h := []byte{byte(id >> 8), byte(id), byte((len(body) + 4) >> 8), byte(len(body) + 4)}
	return append(h, body...)
}

// TestEmptyTemplatesAreRefused: a template whose records would hold no
// byte made the decoder loop forever on the next data set (found by
// FuzzNetFlow); such datagrams are refused at once, in both versions and
// for options templates, and a sound template still decodes.
func TestEmptyTemplatesAreRefused(t *testing.T) {
	data := set(256, 1, 2, 3, 4, 5, 6, 7, 8)
	for _, tc := range []struct {
		name    string
		dgram   []byte
		refused bool
	}{
		{"v9 template of one empty field", flowDatagram(9, set(0, 1, 0, 0, 1, 0, 8, 0, 0), data), true},
		{"v9 template of no field", flowDatagram(9, set(0, 1, 0, 0, 0), data), true},
		{"v9 options template of empty fields", flowDatagram(9, set(1, 1, 0, 0, 4, 0, 4, 0, 1, 0, 0, 0, 34, 0, 0), data), true},
		{"ipfix template of one empty field", flowDatagram(10, set(2, 1, 0, 0, 1, 0, 8, 0, 0), data), true},
		{"ipfix options template of empty fields", flowDatagram(10, set(3, 1, 0, 0, 1, 0, 1, 0, 34, 0, 0), data), true},
		{"v9 template of a 4-byte address", flowDatagram(9, set(0, 1, 0, 0, 1, 0, 8, 0, 4), data), false},
		// A set cut short is decoded with what is there: a template of no
		// field in it must be seen too (found by FuzzNetFlow).
		{"v9 template of no field in a set cut short", flowDatagram(9, []byte{0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &FlowCollector{kind: FlowNetFlow, sampling: 1, exp: map[string]*exporter{}}
			done := make(chan error, 1)
			go func() {
				_, err := c.decodeNetFlow("192.0.2.1:2055", tc.dgram, nil)
				done <- err
			}()
			select {
			case err := <-done:
				if errors.Is(err, errEmptyTemplate) != tc.refused {
					t.Fatalf("err %v, want refused %v", err, tc.refused)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the decoder hangs")
			}
		})
	}
}
