package agent

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/pcapring"
)

// FlowSource collects sFlow and NetFlow/IPFIX exports from routers.
type FlowSource struct {
	Collectors []*capture.FlowCollector
	// Ring, when set, keeps the flow records to the protected prefixes
	// (as frames made from them) for each attack's capture.
	Ring *pcapring.Ring
}

// Name implements Source.
func (s *FlowSource) Name() string {
	names := make([]string, len(s.Collectors))
	for i, c := range s.Collectors {
		names[i] = c.Name()
	}
	return strings.Join(names, ",")
}

// Live implements Source: flows arrive in wall time.
func (s *FlowSource) Live() bool { return true }

// Run implements Source.
func (s *FlowSource) Run(ctx context.Context, emit func([]detect.Packet) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.Collectors))
	for _, c := range s.Collectors {
		wg.Go(func() { errs <- c.Run(ctx, s.keep(emit)) })
	}
	return firstError(&wg, errs)
}

// keep wraps emit so that each batch's records also reach the ring (one
// wrapper per collector: its buffer is its own).
func (s *FlowSource) keep(emit func([]detect.Packet) error) func([]detect.Packet) error {
	if s.Ring == nil {
		return emit
	}
	var buf []byte
	return func(batch []detect.Packet) error {
		for i := range batch {
			p := &batch[i]
			buf = capture.RecordFrame(p, buf)
			s.Ring.AddRecord(p.At, capture.LinkRaw, buf, int(min(p.Bytes, math.MaxUint32)), uint32(min(p.Count, math.MaxUint32)), p.Dst)
		}
		return emit(batch)
	}
}
