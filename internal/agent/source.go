package agent

import (
	"context"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// Source feeds packets to the agent in batches until it ends or ctx does.
type Source interface {
	// Name says what the source reads, for logs and heartbeats.
	Name() string
	// Run calls emit with batches of packets in time order; emit must not
	// keep the slice.
	Run(ctx context.Context, emit func([]detect.Packet) error) error
	// Live sources follow the wall clock: the agent closes ticks as time
	// passes even when no packet arrives. Replays follow the capture's
	// own timestamps.
	Live() bool
}

// batchSize amortises the cost of handing packets over.
const batchSize = 256

// PcapSource replays a pcap or pcapng file.
type PcapSource struct {
	Path string
	// Speed 1 keeps the recorded timing, 0 is as fast as possible.
	Speed float64
	// Last is the timestamp of the last packet, once Run returned.
	Last time.Time
	// Tap, when set, sees each frame (the pre-attack ring).
	Tap capture.Tap
}

// Name implements Source.
func (s *PcapSource) Name() string { return "pcap:" + s.Path }

// Live implements Source.
func (s *PcapSource) Live() bool { return false }

// Run implements Source.
func (s *PcapSource) Run(ctx context.Context, emit func([]detect.Packet) error) error {
	batch := make([]detect.Packet, 0, batchSize)
	st, err := capture.ReadFileTap(ctx, s.Path, s.Speed, s.Tap, func(p *detect.Packet) error {
		batch = append(batch, *p)
		if len(batch) == batchSize || s.Speed > 0 {
			err := emit(batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = emit(batch)
	}
	s.Last = st.Last
	return err
}

// NoTraffic is the source of a node that only runs checks: it reads
// nothing and runs until ctx ends.
type NoTraffic struct{}

// Name implements Source.
func (NoTraffic) Name() string { return "none (checks only)" }

// Live implements Source.
func (NoTraffic) Live() bool { return true }

// Run implements Source.
func (NoTraffic) Run(ctx context.Context, _ func([]detect.Packet) error) error {
	<-ctx.Done()
	return nil
}
