package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/stormwatch/stormwatch/internal/detect"
	"golang.org/x/sys/unix"
)

// Ring sizes of a live capture: 64 blocks of 1 MiB, each handed to us
// when full or after 10 ms, whichever comes first (so that detection
// sees quiet traffic promptly too).
const (
	ringBlockSize = 1 << 20
	ringBlocks    = 64
	ringFrameSize = 2048
	ringTimeoutMS = 10
)

// Live captures from one network interface with an AF_PACKET socket and a
// TPACKET_V3 memory-mapped ring: the kernel writes packets straight into
// memory we read, with no copy and no system call per packet.
type Live struct {
	iface string
	fd    int
	ring  []byte
	link  int
	// Drops counts packets the kernel dropped because the ring was full.
	Drops atomic.Uint64
	// Tap, when set before Run, sees each decoded frame.
	Tap Tap
}

// OpenLive opens a capture on the named interface.
func OpenLive(name string) (*Live, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	l := &Live{iface: name, fd: fd, link: LinkEthernet}
	if len(ifi.HardwareAddr) == 0 {
		l.link = LinkRaw // tun and similar: IP without a link header
	}
	fail := func(what string, err error) (*Live, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("capture on %s: %s: %w", name, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	// Only traffic arriving matters; ignore what this host sends (Linux
	// 4.20+, harmless to skip on older kernels).
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	req := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: ringBlocks, Frame_size: ringFrameSize,
		Frame_nr: ringBlockSize / ringFrameSize * ringBlocks, Retire_blk_tov: ringTimeoutMS}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("PACKET_RX_RING", err)
	}
	ring, err := unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED|unix.MAP_POPULATE)
	if err != nil {
		// MAP_LOCKED needs RLIMIT_MEMLOCK; fall back to an unlocked ring.
		ring, err = unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fail("mmap ring", err)
		}
	}
	l.ring = ring
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Munmap(ring)
		return fail("bind", err)
	}
	// Promiscuous: on a mirror (SPAN) port the traffic is addressed to
	// other hosts.
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		unix.Munmap(ring)
		return fail("promiscuous mode", err)
	}
	return l, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Name is the interface captured.
func (l *Live) Name() string { return l.iface }

// Close releases the socket and the ring.
func (l *Live) Close() error {
	err := unix.Munmap(l.ring)
	if cerr := unix.Close(l.fd); err == nil {
		err = cerr
	}
	return err
}

// Block header offsets (struct tpacket_block_desc with tpacket_hdr_v1).
const (
	bdStatus     = 8
	bdNumPkts    = 12
	bdFirstPkt   = 16
	tpStatusUser = unix.TP_STATUS_USER
)

// Run hands the captured packets to fn, one batch per ring block (full, or
// retired after 10 ms), until ctx ends. fn must not keep the slice.
func (l *Live) Run(ctx context.Context, fn func([]detect.Packet) error) error {
	var p detect.Packet
	batch := make([]detect.Packet, 0, 1024)
	block := 0
	pfd := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN | unix.POLLERR}}
	lastStats := time.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		b := l.ring[block*ringBlockSize : (block+1)*ringBlockSize]
		status := (*uint32)(unsafe.Pointer(&b[bdStatus]))
		if atomic.LoadUint32(status)&tpStatusUser == 0 {
			if _, err := unix.Poll(pfd, 100); err != nil && !errors.Is(err, unix.EINTR) {
				return fmt.Errorf("poll %s: %w", l.iface, err)
			}
			if time.Since(lastStats) > time.Second {
				l.readStats()
				lastStats = time.Now()
			}
			continue
		}
		n := binary.NativeEndian.Uint32(b[bdNumPkts:])
		off := binary.NativeEndian.Uint32(b[bdFirstPkt:])
		for range n {
			h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&b[off]))
			start := off + uint32(h.Mac)
			end := start + h.Snaplen
			if end <= uint32(len(b)) {
				if err := Decode(l.link, b[start:end], &p); err == nil {
					p.At = time.Unix(int64(h.Sec), int64(h.Nsec))
					if l.Tap != nil {
						l.Tap.Add(p.At, l.link, b[start:end], int(h.Len), p.Dst)
					}
					batch = append(batch, p)
				}
			}
			if h.Next_offset == 0 {
				break
			}
			off += h.Next_offset
		}
		// Give the block back to the kernel before the detector works, so
		// that the ring refills meanwhile.
		atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
		block = (block + 1) % ringBlocks
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
}

// readStats adds the kernel's drop count (reading resets it).
func (l *Live) readStats() {
	st, err := unix.GetsockoptTpacketStatsV3(l.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err == nil {
		l.Drops.Add(uint64(st.Drops))
	}
}
