package detect

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
)

// addrHash mixes an address into 64 well-spread bits without allocating:
// the two halves of its 16-byte form through a multiply-xorshift finaliser
// (murmur3's), a few nanoseconds on the per-packet path.
func addrHash(a netip.Addr) uint64 {
	var h uint64
	if a.Is4() {
		b := a.As4()
		h = uint64(binary.LittleEndian.Uint32(b[:]))*0x9E3779B97F4A7C15 ^ 0xffff
	} else {
		b := a.As16()
		h = binary.LittleEndian.Uint64(b[0:8])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(b[8:16])
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// hllP is the HyperLogLog precision: 2^10 registers, about 3 % error.
const hllP = 10

// hll counts distinct sources in fixed memory.
type hll struct{ reg [1 << hllP]uint8 }

func (h *hll) add(x uint64) {
	idx := x >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1))) + 1
	if rank > h.reg[idx] {
		h.reg[idx] = rank
	}
}

func (h *hll) reset() { h.reg = [1 << hllP]uint8{} }

func (h *hll) estimate() uint64 {
	const m = float64(1 << hllP)
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += 1 / float64(uint64(1)<<r)
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros)) // linear counting for small sets
	}
	return uint64(e + 0.5)
}

// heavySlots is the size of the heavy-hitter tables.
const heavySlots = 256

// heavyAddrs finds the sources sending the most, in fixed memory: a table
// indexed by hash where a different key arriving on a taken slot wears the
// incumbent's count down and replaces it at zero (a hashed form of the
// Space-Saving idea). Heavy hitters survive; the noise cancels out.
type heavyAddrs struct {
	key   [heavySlots]netip.Addr
	count [heavySlots]uint64
}

func (t *heavyAddrs) add(a netip.Addr, h uint64, n uint64) {
	i := h & (heavySlots - 1)
	switch {
	case t.key[i] == a:
		t.count[i] += n
	case t.count[i] <= n:
		t.key[i], t.count[i] = a, n-t.count[i]
	default:
		t.count[i] -= n
	}
}

func (t *heavyAddrs) reset() {
	t.key = [heavySlots]netip.Addr{}
	t.count = [heavySlots]uint64{}
}

// heavyPorts does the same for ports.
type heavyPorts struct {
	key   [heavySlots]uint16
	count [heavySlots]uint64
	total uint64 // all packets added, for shares
}

func (t *heavyPorts) add(p uint16, n uint64) {
	t.total += n
	i := (uint64(p) * 0x9E3779B97F4A7C15 >> 56) & (heavySlots - 1)
	switch {
	case t.key[i] == p && t.count[i] > 0:
		t.count[i] += n
	case t.count[i] <= n:
		t.key[i], t.count[i] = p, n-t.count[i]
	default:
		t.count[i] -= n
	}
}

func (t *heavyPorts) reset() {
	t.key = [heavySlots]uint16{}
	t.count = [heavySlots]uint64{}
	t.total = 0
}
