// Package pcapring keeps the last seconds of packet headers seen for the
// protected prefixes, in a fixed amount of memory, and writes the packets
// around an attack's onset as pcapng: the evidence an upstream or a
// forensic analyst asks for, including what came before the detector
// fired.
//
// Each kept packet costs one copy of its first SnapLen bytes into a
// preallocated arena, under a mutex; when traffic outruns the budget the
// ring keeps one packet in N (a power of two that adapts every tenth of a
// second), and the
// pcapng says so in its comment.
package pcapring

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a ring.
const (
	DefaultWindow   = 10 * time.Second
	DefaultMaxBytes = 16 << 20
	// SnapLen is how much of each frame is kept: link, IP and transport
	// headers with room for options and tunnels; payloads are not
	// evidence of a flood and are private.
	SnapLen = 128
)

// A record takes one fixed slot of the arena: at (8) | orig len (4) |
// link (2) | cap len (2) | count (4) | up to SnapLen bytes. Fixed slots
// keep the ring simple to walk after it wrapped.
const (
	recHeader = 20
	recMax    = recHeader + SnapLen
)

// Ring is a circular store of recent frames. Safe for concurrent use.
type Ring struct {
	window time.Duration
	v4     []v4prefix
	v6     []netip.Prefix

	mu     sync.Mutex
	arena  []byte
	slots  int
	head   int // the slot the next record goes to
	full   bool
	latest time.Time

	// Sampling: keep one frame in stride; stride adapts to the rate seen
	// so that a window of records fits the arena.
	seen, kept atomic.Uint64
	stride     atomic.Uint64
	tickStart  time.Time
	tickSeen   uint64
	maxPerTick uint64
}

// sampleTick is how often the sampling stride is recomputed.
const sampleTick = 100 * time.Millisecond

// New returns a ring keeping window of frames destined to prefixes,
// within maxBytes.
func New(window time.Duration, maxBytes int, prefixes []netip.Prefix) *Ring {
	if window <= 0 {
		window = DefaultWindow
	}
	if maxBytes < 64*recMax {
		maxBytes = 64 * recMax
	}
	r := &Ring{window: window, arena: make([]byte, maxBytes/recMax*recMax), slots: maxBytes / recMax}
	for _, p := range prefixes {
		p = p.Masked()
		if p.Addr().Is4() {
			a4 := p.Addr().As4()
			mask := ^uint32(0) << (32 - p.Bits())
			if p.Bits() == 0 {
				mask = 0
			}
			r.v4 = append(r.v4, v4prefix{base: (uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])) & mask, mask: mask})
		} else {
			r.v6 = append(r.v6, p)
		}
	}
	// A window's worth of records at the largest size must fit.
	r.maxPerTick = max(1, uint64(maxBytes/recMax)*uint64(sampleTick)/uint64(window))
	r.stride.Store(1)
	return r
}

// Window is how far back the ring reaches.
func (r *Ring) Window() time.Duration { return r.window }

// Protects reports whether dst is in the ring's prefixes. IPv4 prefixes
// are compared as masked words: this runs for every packet.
func (r *Ring) Protects(dst netip.Addr) bool {
	if dst.Is4() {
		a4 := dst.As4()
		a := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
		for _, p := range r.v4 {
			if a&p.mask == p.base {
				return true
			}
		}
		return false
	}
	for i := range r.v6 {
		if r.v6[i].Contains(dst) {
			return true
		}
	}
	return false
}

type v4prefix struct{ base, mask uint32 }

// Add keeps frame (of link type link, origLen bytes on the wire), seen
// at at, when its destination dst is protected and the sampling takes
// it. It copies what it keeps: frame may be reused after.
func (r *Ring) Add(at time.Time, link int, frame []byte, origLen int, dst netip.Addr) {
	// Small enough to inline into the capture loop: a packet the ring
	// does not keep costs a prefix check and one atomic add.
	if !r.Protects(dst) {
		return
	}
	if n := r.seen.Add(1); n&(r.stride.Load()-1) != 0 { // stride is a power of two
		return
	}
	r.keep(at, link, frame, origLen, 1, r.seen.Load())
}

// AddRecord keeps a flow record (sampled by the exporter already) as a
// frame synthesized from it: count packets of origLen bytes in all.
// Records are few: every one to a protected address is kept, within the
// ring's budget.
func (r *Ring) AddRecord(at time.Time, link int, frame []byte, origLen int, count uint32, dst netip.Addr) {
	if !r.Protects(dst) {
		return
	}
	n := r.seen.Add(1)
	if n&(r.stride.Load()-1) != 0 {
		return
	}
	r.keep(at, link, frame, origLen, count, n)
}

// keep stores one sampled frame.
func (r *Ring) keep(at time.Time, link int, frame []byte, origLen int, count uint32, n uint64) {
	r.kept.Add(1)
	capLen := min(len(frame), SnapLen)
	r.mu.Lock()
	r.resample(at, n)
	b := r.arena[r.head*recMax : (r.head+1)*recMax]
	binary.LittleEndian.PutUint64(b[0:], uint64(at.UnixNano()))
	binary.LittleEndian.PutUint32(b[8:], uint32(origLen))
	binary.LittleEndian.PutUint16(b[12:], uint16(link))
	binary.LittleEndian.PutUint16(b[14:], uint16(capLen))
	binary.LittleEndian.PutUint32(b[16:], count)
	copy(b[recHeader:], frame[:capLen])
	if r.head++; r.head == r.slots {
		r.head, r.full = 0, true
	}
	if at.After(r.latest) {
		r.latest = at
	}
	r.mu.Unlock()
}

// resample recomputes the stride once per tick from the frames seen in
// the last one (r.mu held).
func (r *Ring) resample(at time.Time, seen uint64) {
	if r.tickStart.IsZero() {
		r.tickStart, r.tickSeen = at, seen
		return
	}
	if at.Sub(r.tickStart) < sampleTick {
		return
	}
	rate := seen - r.tickSeen
	r.tickStart, r.tickSeen = at, seen
	want := max(1, (rate+r.maxPerTick-1)/r.maxPerTick)
	r.stride.Store(1 << bits.Len64(want-1)) // the next power of two
}

// Latest is the time of the newest frame kept.
func (r *Ring) Latest() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest
}

// Stride is the current sampling: one frame kept in Stride.
func (r *Ring) Stride() uint64 { return r.stride.Load() }

// Frame is one kept frame.
type Frame struct {
	At      time.Time
	Link    int
	OrigLen int
	// Count is 1 for a captured packet, the packets of a flow record for
	// a frame synthesized from one.
	Count int
	Data  []byte
}

// Frames returns copies of the kept frames seen in [from, to] whose
// destination match accepts (nil: all), oldest first.
func (r *Ring) Frames(from, to time.Time, match func(frame []byte, link int) bool) []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Frame
	walk := func(lo, hi int) {
		for slot := lo; slot < hi; slot++ {
			b := r.arena[slot*recMax : (slot+1)*recMax]
			at := time.Unix(0, int64(binary.LittleEndian.Uint64(b[0:])))
			link := int(binary.LittleEndian.Uint16(b[12:]))
			data := b[recHeader : recHeader+int(binary.LittleEndian.Uint16(b[14:]))]
			if !at.Before(from) && !at.After(to) && (match == nil || match(data, link)) {
				out = append(out, Frame{At: at, Link: link, OrigLen: int(binary.LittleEndian.Uint32(b[8:])), Count: int(binary.LittleEndian.Uint32(b[16:])),
					Data: append([]byte(nil), data...)})
			}
		}
	}
	if r.full {
		walk(r.head, r.slots) // the oldest lap's survivors
	}
	walk(0, r.head)
	return out
}

// Stats says how much the ring saw and kept.
func (r *Ring) Stats() (seen, kept uint64) { return r.seen.Load(), r.kept.Load() }
