package capture

import (
	"net/netip"
	"time"
)

// Tap sees every frame a capture decodes, while the frame's bytes are
// still valid (a live capture hands its ring block back to the kernel
// before the detector runs): the pre-attack ring keeps headers this way.
type Tap interface {
	Add(at time.Time, link int, frame []byte, origLen int, dst netip.Addr)
}
