package agent

import (
	"context"
	"strings"
	"sync"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// FlowSource collects sFlow and NetFlow/IPFIX exports from routers.
type FlowSource struct {
	Collectors []*capture.FlowCollector
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
		wg.Go(func() { errs <- c.Run(ctx, emit) })
	}
	return firstError(&wg, errs)
}
