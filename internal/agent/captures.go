package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/pcapring"
)

// DefaultCaptureAfter is how much of an attack's start its capture keeps
// after the onset.
const DefaultCaptureAfter = 5 * time.Second

// capturesDir holds captures waiting for upload, in the spool directory:
// like events, they survive a restart and an unreachable server.
func (a *Agent) capturesDir() string { return filepath.Join(a.cfg.Spool.dir, "captures") }

// keepCapture writes the frames around attack e's onset — the ring's
// window before it and CaptureAfter after it — to the captures directory
// and wakes the uploader. The frames are those sent to the attack's
// target; their times are moved onto the clock the events were reported
// on.
// framesBefore takes the ring's frames to e's target from its window
// before e's onset.
func (a *Agent) framesBefore(e sw.AttackEvent) []pcapring.Frame {
	a.mu.Lock()
	onset := e.StartedAt.Add(-a.shift) // back onto the capture's clock
	a.mu.Unlock()
	return a.cfg.Ring.Frames(onset.Add(-a.cfg.Ring.Window()), onset.Add(-time.Nanosecond), targetMatcher(e.Target))
}

func (a *Agent) keepCapture(ctx context.Context, e sw.AttackEvent, before []pcapring.Frame) {
	ring := a.cfg.Ring
	a.mu.Lock()
	shift := a.shift
	a.mu.Unlock()
	onset := e.StartedAt.Add(-shift) // back onto the capture's clock
	until := onset.Add(a.cfg.CaptureAfter)
	deadline := time.NewTimer(a.cfg.CaptureAfter + 10*time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for ring.Latest().Before(until) {
		select {
		case <-ctx.Done():
			return
		case <-a.sourceEnded:
			break wait
		case <-deadline.C:
			break wait
		case <-tick.C:
		}
	}
	frames := append(before, ring.Frames(onset, until, targetMatcher(e.Target))...)
	seen, kept := ring.Stats()
	what := fmt.Sprintf("headers (first %d bytes) of the packets", pcapring.SnapLen)
	if _, flows := a.cfg.Source.(*FlowSource); flows {
		what = "frames made from the flow records (each frame's comment: the record's packets and bytes)"
	}
	comment := fmt.Sprintf("stormwatch attack %s on %s (%s): %s to the target from %s before the onset to %s after; sampling at the onset: 1 in %d (%d of %d frames kept since start)",
		e.AttackID, e.Target, e.Classification, what, ring.Window(), a.cfg.CaptureAfter, ring.Stride(), kept, seen)
	var b bytes.Buffer
	if err := pcapring.WriteNG(&b, frames, shift, comment, "stormwatch agent "+a.cfg.Version); err != nil {
		a.cfg.Log.Error("write capture", "attack", e.AttackID, "err", err)
		return
	}
	if err := os.MkdirAll(a.capturesDir(), 0o750); err != nil {
		a.cfg.Log.Error("write capture", "attack", e.AttackID, "err", err)
		return
	}
	path := filepath.Join(a.capturesDir(), safeName(e.AttackID)+".pcapng")
	if err := writeFileAtomic(path, b.Bytes()); err != nil {
		a.cfg.Log.Error("write capture", "attack", e.AttackID, "err", err)
		return
	}
	a.cfg.Log.Info("attack capture kept", "attack", e.AttackID, "frames", len(frames), "before_onset", len(before), "bytes", b.Len())
	select {
	case a.uploads <- struct{}{}:
	default:
	}
}

// safeName keeps an attack id usable as a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == '.' {
			return '_'
		}
		return r
	}, id)
}

// targetMatcher accepts frames to an attack's target: an address, or a
// prefix for carpet bombing.
func targetMatcher(target string) func([]byte, int) bool {
	prefix, err := netip.ParsePrefix(target)
	if err != nil {
		addr, err := netip.ParseAddr(target)
		if err != nil {
			return nil // unknown form: keep everything the ring protects
		}
		prefix = netip.PrefixFrom(addr, addr.BitLen())
	}
	return func(frame []byte, link int) bool {
		var p detect.Packet
		return capture.Decode(link, frame, &p) == nil && prefix.Contains(p.Dst)
	}
}

// uploadCaptures sends waiting captures to the server until ctx ends,
// when woken and every few seconds; a capture leaves the disk only once
// the server has it (or refused it for good, logged and set aside).
func (a *Agent) uploadCaptures(ctx context.Context) {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		a.uploadWaiting(ctx)
		select {
		case <-ctx.Done():
			return
		case <-a.uploads:
		case <-t.C:
		}
	}
}

// uploadWaiting tries every waiting capture once and reports how many are
// left.
func (a *Agent) uploadWaiting(ctx context.Context) int {
	paths, _ := filepath.Glob(filepath.Join(a.capturesDir(), "*.pcapng"))
	left := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			a.cfg.Log.Error("read capture", "path", path, "err", err)
			continue
		}
		id := strings.TrimSuffix(filepath.Base(path), ".pcapng")
		err = a.cfg.Client.UploadCapture(ctx, id, data)
		switch {
		case err == nil:
			a.cfg.Log.Info("attack capture uploaded", "attack", id, "bytes", len(data))
			_ = os.Remove(path)
		case IsPermanent(err):
			a.cfg.Log.Error("server refused the capture; kept as .rejected", "attack", id, "err", err)
			_ = os.Rename(path, path+".rejected")
		default:
			left++
		}
	}
	return left
}
