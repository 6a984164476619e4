package bgpspeaker_test

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/bgpspeaker"
	"github.com/stormwatch/stormwatch/internal/bgpspeaker/birdtest"
	"github.com/stormwatch/stormwatch/internal/mitigation"
)

// TestAnnounceToBird: GoBGP in this process peers with BIRD in a network
// namespace; BIRD's own CLI shows the blackhole route with its RTBH and
// provider communities and the FlowSpec rule, then neither after they are
// withdrawn; a new speaker started on the state file of one that died
// with a route announced withdraws it.
func TestAnnounceToBird(t *testing.T) {
	bird := birdtest.Start(t)
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "announced.json")
	cfg := bgpspeaker.Config{RouterID: birdtest.HostAddr, LocalAS: birdtest.HostAS, NextHop: birdtest.HostAddr,
		Peers: []bgpspeaker.Peer{{Address: birdtest.BirdAddr, AS: birdtest.BirdAS, LocalAddress: birdtest.HostAddr}}}
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	up := make(chan string, 16)
	s, stale, err := bgpspeaker.Start(ctx, cfg, state, slog.New(slog.DiscardHandler), func(peer string, established bool, detail string) {
		if established {
			up <- peer
		}
	})
	if err != nil || len(stale) != 0 {
		t.Fatal(err, stale)
	}
	select {
	case <-up:
	case <-time.After(20 * time.Second):
		t.Fatal("the session with bird never came up")
	}
	target := netip.MustParsePrefix("203.0.113.7/32")
	bh := mitigation.Announcement{Kind: "blackhole", Target: target, Communities: []uint32{mitigation.RTBH, 64500<<16 | 9999}}
	fs := mitigation.Announcement{Kind: "flowspec", Target: target, Match: "destination 203.0.113.7/32 protocol ==udp source-port ==53"}
	for _, a := range []mitigation.Announcement{bh, fs} {
		if err := s.Announce(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	routes := bird.Await(t, "show route all table master4", 15*time.Second, func(out string) bool { return strings.Contains(out, "203.0.113.7/32") })
	if !strings.Contains(routes, "(65535,666)") || !strings.Contains(routes, "(64500,9999)") {
		t.Errorf("the blackhole route lacks its communities:\n%s", routes)
	}
	flows := bird.Await(t, "show route all table flowtab4", 15*time.Second, func(out string) bool { return strings.Contains(out, "flow4") })
	for _, want := range []string{"dst 203.0.113.7/32", "proto 17", "sport 53"} {
		if !strings.Contains(flows, want) {
			t.Errorf("the FlowSpec rule lacks %q:\n%s", want, flows)
		}
	}
	t.Logf("bird received:\n%s\n%s", routes, flows)
	if err := s.Withdraw(ctx, fs); err != nil {
		t.Fatal(err)
	}
	bird.Await(t, "show route all table flowtab4", 15*time.Second, func(out string) bool { return !strings.Contains(out, "flow4") })

	// A speaker that dies with the blackhole announced leaves it on its
	// list; the next one withdraws it. (Closing the old one's sessions
	// without withdrawing, as a killed process would.)
	s2, stale, err := bgpspeaker.Start(ctx, cfg, state, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || stale[0].Key() != bh.Key() {
		t.Errorf("stale announcements %+v, want the blackhole", stale)
	}
	if err := s2.Close(ctx); err != nil {
		t.Error(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Error(err)
	}
	bird.Await(t, "show route all table master4", 15*time.Second, func(out string) bool { return !strings.Contains(out, "203.0.113.7/32") })
}
