package detect

import (
	"encoding/binary"
	"net/netip"
)

// Conversation state, in fixed memory. The agent sees both directions,
// so it can tell traffic a protected address asked for (replies to what
// it sent, packets of connections it takes part in) from traffic it did
// not (handshakes never completed, replies to requests it never made).
// That is what attack-shaped traffic is, and why busy normal traffic,
// however fast, does not look like an attack.
//
// Flows are remembered by a 64-bit key in set-associative tables: a key
// hashes to a set of four slots and, when the set is full, replaces the
// slot seen longest ago. A flood of new flows evicts old entries instead
// of growing memory; the tables are separate so that a flood of
// half-open handshakes cannot evict the conversations the address takes
// part in.

// flowWays is the associativity of the tables.
const flowWays = 4

// flowTable maps flow keys to the second they were last seen and a small
// value. A set's four slots fill one 64-byte cache line: a lookup costs
// at most one miss.
type flowTable struct {
	slots []flowSlot
	sets  uint64 // number of sets, a power of two
}

type flowSlot struct {
	key       uint64
	seen, val uint32
}

func newFlowTable(bits uint) *flowTable {
	n := 1 << bits
	return &flowTable{slots: make([]flowSlot, n), sets: uint64(n / flowWays)}
}

func (t *flowTable) set(k uint64) []flowSlot {
	i := int(k&(t.sets-1)) * flowWays
	return t.slots[i : i+flowWays : i+flowWays]
}

// get returns the value stored for k if it was seen within ttl seconds
// of now.
func (t *flowTable) get(k uint64, now, ttl uint32) (uint32, bool) {
	for _, s := range t.set(k) {
		if s.key == k {
			if now-s.seen > ttl {
				return 0, false
			}
			return s.val, true
		}
	}
	return 0, false
}

// has reports whether k was seen within ttl seconds of now.
func (t *flowTable) has(k uint64, now, ttl uint32) bool {
	_, ok := t.get(k, now, ttl)
	return ok
}

// put stores k with value v, seen now, in an empty slot of its set or
// else in the one seen longest ago.
func (t *flowTable) put(k uint64, v, now uint32) {
	set := t.set(k)
	victim := -1
	for i := range set {
		s := &set[i]
		switch {
		case s.key == k:
			s.seen, s.val = now, v
			return
		case s.key == 0:
			if victim < 0 || set[victim].key != 0 {
				victim = i
			}
		case victim < 0 || set[victim].key != 0 && now-s.seen > now-set[victim].seen:
			victim = i
		}
	}
	set[victim] = flowSlot{key: k, seen: now, val: v}
}

// take removes k and reports whether it was there within ttl.
func (t *flowTable) take(k uint64, now, ttl uint32) bool {
	set := t.set(k)
	for i := range set {
		if set[i].key == k {
			set[i].key = 0
			return now-set[i].seen <= ttl
		}
	}
	return false
}

// flowKey names a conversation from the protected address's side: the
// local and remote address and port and the protocol, the same whichever
// way a packet goes. Zero is never a key (empty slots hold zero).
func flowKey(local, remote netip.Addr, proto uint8, localPort, remotePort uint16) uint64 {
	var h uint64
	if local.Is4() && remote.Is4() {
		// The common case in one word: no 16-byte copies on the hot path.
		l, r := local.As4(), remote.As4()
		h = uint64(binary.BigEndian.Uint32(l[:]))<<32 | uint64(binary.BigEndian.Uint32(r[:]))
		h *= 0x9E3779B97F4A7C15
	} else {
		l, r := local.As16(), remote.As16()
		h = binary.LittleEndian.Uint64(l[0:8])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(l[8:16])
		h = (h^binary.LittleEndian.Uint64(r[0:8]))*0xff51afd7ed558ccd ^ binary.LittleEndian.Uint64(r[8:16])
	}
	h = (h ^ uint64(proto)<<32 ^ uint64(localPort)<<16 ^ uint64(remotePort)) * 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 29
	return h | 1
}

// fragKey names the fragments of one datagram.
func fragKey(src, dst netip.Addr, proto uint8, id uint32) uint64 {
	return (flowKey(dst, src, proto, uint16(id>>16), uint16(id)) ^ 0x5bd1e994) | 1
}
