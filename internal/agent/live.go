package agent

import (
	"context"
	"strings"
	"sync"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// LiveSource captures from network interfaces (AF_PACKET), one goroutine
// per interface.
type LiveSource struct {
	Captures []*capture.Live
}

// Name implements Source.
func (s *LiveSource) Name() string {
	names := make([]string, len(s.Captures))
	for i, c := range s.Captures {
		names[i] = c.Name()
	}
	return "live:" + strings.Join(names, ",")
}

// Live implements Source.
func (s *LiveSource) Live() bool { return true }

// Run implements Source: each interface hands over its packets one ring
// block at a time.
func (s *LiveSource) Run(ctx context.Context, emit func([]detect.Packet) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.Captures))
	for _, c := range s.Captures {
		wg.Go(func() { errs <- c.Run(ctx, emit) })
	}
	return firstError(&wg, errs)
}

// firstError waits for the goroutines and returns the first error any of
// them sent.
func firstError(wg *sync.WaitGroup, errs chan error) error {
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
