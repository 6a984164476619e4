package agent

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/netnstest"
)

// TestLiveCaptureInNamespace runs the agent with AF_PACKET on one end of a
// veth pair and replays a SYN flood into the other end with tcpreplay.
func TestLiveCaptureInNamespace(t *testing.T) {
	pair := netnstest.Veth(t, "tcpreplay")
	victim := net.IPv4(203, 0, 113, 7)
	pcap := filepath.Join(t.TempDir(), "syn.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: time.Now(), Phases: []pcapgen.Phase{
		{Duration: 3 * time.Second, Mixes: []pcapgen.Mix{{Kind: pcapgen.TCPFlags(victim, 443, true, false, false, false), PPS: 20_000}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	live, err := capture.OpenLive(pair.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	s := newServer(t)
	spool, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	a := New(Config{Detect: settings(), Source: &LiveSource{Captures: []*capture.Live{live}}, Spool: spool,
		Client: NewClient("http://"+s.addr, s.token), Heartbeat: time.Second, Log: quiet, Version: "test"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	pair.Replay(t, pcap)
	waitFor(t, "the SYN flood to be reported", 20*time.Second, func() bool { return s.stored() >= 1 })
	list, _, err := s.store.Attacks(context.Background(), s.ws, storePage())
	if err != nil || len(list) != 1 || list[0].Classification != "syn_flood" || list[0].Target != "203.0.113.7" {
		t.Fatalf("attacks %+v, %v", list, err)
	}
	t.Logf("live: %s, peak %d pps, kernel drops %d", list[0].Title, list[0].PeakPPS, live.Drops.Load())
}
