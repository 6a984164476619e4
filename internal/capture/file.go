package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// Stats counts what a source read.
type Stats struct {
	Packets, Skipped uint64
	First, Last      time.Time
}

// ReadFile replays a pcap or pcapng capture into fn, in order. speed 1
// keeps the recorded timing, 10 plays ten times faster, 0 as fast as
// possible; detection always runs on the capture's own timestamps, so the
// result does not depend on the speed. fn must not keep the packet.
func ReadFile(ctx context.Context, path string, speed float64, fn func(*detect.Packet) error) (Stats, error) {
	return ReadFileTap(ctx, path, speed, nil, fn)
}

// ReadFileTap is ReadFile that also shows each decoded frame to tap
// (nil: none).
func ReadFileTap(ctx context.Context, path string, speed float64, tap Tap, fn func(*detect.Packet) error) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: not a capture file: %w", path, err)
	}
	var next func() ([]byte, time.Time, int, error)
	var link int
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", path, err)
		}
		link = int(r.LinkType())
		next = func() ([]byte, time.Time, int, error) {
			data, ci, err := r.ZeroCopyReadPacketData()
			return data, ci.Timestamp, ci.Length, err
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: not a pcap or pcapng file: %w", path, err)
		}
		link = int(r.LinkType())
		next = func() ([]byte, time.Time, int, error) {
			data, ci, err := r.ZeroCopyReadPacketData()
			return data, ci.Timestamp, ci.Length, err
		}
	}
	var st Stats
	var p detect.Packet
	var wallStart time.Time
	for {
		data, ts, wire, err := next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("%s: packet %d: %w", path, st.Packets+st.Skipped+1, err)
		}
		if err := Decode(link, data, &p); err != nil {
			st.Skipped++
			continue
		}
		p.At = ts
		if tap != nil {
			tap.Add(ts, link, data, wire, p.Dst)
		}
		if st.Packets == 0 {
			st.First, wallStart = ts, time.Now()
		}
		st.Last = ts
		st.Packets++
		if speed > 0 && st.Packets%64 == 1 {
			// Pace by the capture's clock, checked every few packets.
			due := wallStart.Add(time.Duration(float64(ts.Sub(st.First)) / speed))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return st, ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		if st.Packets%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		if err := fn(&p); err != nil {
			return st, err
		}
	}
}

// DetectFile runs a detector with settings s over a capture as fast as it
// reads, then lets the capture's time run on until every attack in it has
// ended, and returns the events and what was read.
func DetectFile(ctx context.Context, path string, s detect.Settings) ([]detect.Event, Stats, error) {
	d := detect.New(s)
	var events []detect.Event
	st, err := ReadFile(ctx, path, 0, func(p *detect.Packet) error {
		events = append(events, d.Observe(p)...)
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	if !st.Last.IsZero() {
		events = append(events, d.Flush(st.Last.Add(s.HoldDown+s.Reonset+2*time.Second))...)
	}
	return events, st, nil
}
