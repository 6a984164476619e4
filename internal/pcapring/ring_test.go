package pcapring

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

var (
	protected = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	victim    = netip.MustParseAddr("203.0.113.7")
	t0        = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
)

func frame(n int) []byte {
	b := make([]byte, 60+n%40)
	b[0] = byte(n)
	b[1] = byte(n >> 8)
	return b
}

func TestRingKeepsTheLastWindow(t *testing.T) {
	r := New(10*time.Second, 1<<20, protected)
	for i := range 30_000 { // 30 s at 1,000 frames/s: the ring wraps
		r.Add(t0.Add(time.Duration(i)*time.Millisecond), 1, frame(i), 1400, victim)
	}
	r.Add(t0, 1, frame(1), 60, netip.MustParseAddr("198.51.100.1")) // not protected
	got := r.Frames(t0.Add(20*time.Second), t0.Add(30*time.Second), nil)
	if len(got) == 0 {
		t.Fatal("nothing kept")
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.Before(got[i-1].At) {
			t.Fatalf("frames out of order at %d: %v after %v", i, got[i].At, got[i-1].At)
		}
	}
	first, last := got[0].At.Sub(t0), got[len(got)-1].At.Sub(t0)
	if last != 29999*time.Millisecond || first > 21*time.Second {
		t.Errorf("kept %v..%v, want the last seconds up to 29.999 s", first, last)
	}
	if got[0].OrigLen != 1400 || len(got[0].Data) > SnapLen {
		t.Errorf("a frame: %+v", got[0])
	}
	if old := r.Frames(t0, t0.Add(5*time.Second), nil); len(old) != 0 {
		t.Errorf("%d frames older than the ring's memory", len(old))
	}
}

func TestRingSamplesAFlood(t *testing.T) {
	r := New(10*time.Second, 2<<20, protected)
	// 1 Mpps for 12 s: far more than 2 MB can hold for 10 s.
	for i := range 12_000_000 {
		r.Add(t0.Add(time.Duration(i)*time.Microsecond), 1, frame(i), 1400, victim)
	}
	if r.Stride() < 50 {
		t.Errorf("stride %d under a 1 Mpps flood", r.Stride())
	}
	got := r.Frames(t0.Add(2*time.Second), t0.Add(12*time.Second), nil)
	if span := got[len(got)-1].At.Sub(got[0].At); span < 9*time.Second {
		t.Errorf("the sampled ring spans %v of the last 10 s", span)
	}
}

func TestPcapNGReadsBack(t *testing.T) {
	r := New(10*time.Second, 1<<20, protected)
	for i := range 100 {
		r.Add(t0.Add(time.Duration(i)*time.Millisecond), 1, frame(i), 1400, victim)
	}
	var b bytes.Buffer
	shift := time.Hour
	if err := WriteNG(&b, r.Frames(t0, t0.Add(time.Second), nil), shift, "attack atk_1: 10 s before the onset", "stormwatch test"); err != nil {
		t.Fatal(err)
	}
	nr, err := pcapgo.NewNgReader(&b, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		data, ci, err := nr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(time.Duration(n)*time.Millisecond + shift); !ci.Timestamp.Equal(want) || ci.Length != 1400 || data[0] != byte(n) {
			t.Fatalf("packet %d: %v len %d data %x", n, ci.Timestamp, ci.Length, data[:2])
		}
		n++
	}
	if n != 100 {
		t.Errorf("%d packets read back", n)
	}
}

// BenchmarkRingAdd is the ring's cost per packet on the capture path: a
// protected destination at a normal rate (every frame kept) and under a
// 10 Mpps flood (one frame kept in many).
func BenchmarkRingAdd(b *testing.B) {
	for _, tc := range []struct {
		name string
		step time.Duration
	}{{"1k-pps-every-frame-kept", time.Millisecond}, {"10M-pps-sampled", 100 * time.Nanosecond}} {
		b.Run(tc.name, func(b *testing.B) {
			r := New(DefaultWindow, DefaultMaxBytes, protected)
			f := frame(1)
			at := t0
			b.ReportAllocs()
			for b.Loop() {
				at = at.Add(tc.step)
				r.Add(at, 1, f, 1400, victim)
			}
		})
	}
}
