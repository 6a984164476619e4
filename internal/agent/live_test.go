package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// veth makes a veth pair: one end in this namespace (returned), the other
// in a new network namespace (returned by name), both removed at the end.
func veth(t *testing.T) (host, netns, peer string) {
	t.Helper()
	if os.Geteuid() != 0 {
		storetest.RequireReal(t, "root, to create a network namespace")
	}
	for _, tool := range []string{"ip", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			storetest.RequireReal(t, "%s (apt-get install iproute2 tcpreplay)", tool)
		}
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	netns, host, peer = "sw"+id, "swa"+id, "swb"+id
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("ip", "netns", "add", netns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", netns).Run() })
	run("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", host).Run() })
	run("ip", "link", "set", peer, "netns", netns)
	run("ip", "link", "set", host, "up")
	run("ip", "netns", "exec", netns, "ip", "link", "set", peer, "up")
	return host, netns, peer
}

// TestLiveCaptureInNamespace runs the agent with AF_PACKET on one end of a
// veth pair and replays a SYN flood into the other end with tcpreplay.
func TestLiveCaptureInNamespace(t *testing.T) {
	host, netns, peer := veth(t)
	victim := net.IPv4(203, 0, 113, 7)
	pcap := filepath.Join(t.TempDir(), "syn.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: time.Now(), Phases: []pcapgen.Phase{
		{Duration: 3 * time.Second, Mixes: []pcapgen.Mix{{Kind: pcapgen.TCPFlags(victim, 443, true, false, false, false), PPS: 20_000}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	live, err := capture.OpenLive(host)
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

	replay := exec.Command("ip", "netns", "exec", netns, "tcpreplay", "--intf1="+peer, pcap)
	if out, err := replay.CombinedOutput(); err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
	waitFor(t, "the SYN flood to be reported", 20*time.Second, func() bool { return s.stored() >= 1 })
	list, _, err := s.store.Attacks(context.Background(), s.ws, storePage())
	if err != nil || len(list) != 1 || list[0].Classification != "syn_flood" || list[0].Target != "203.0.113.7" {
		t.Fatalf("attacks %+v, %v", list, err)
	}
	t.Logf("live: %s, peak %d pps, kernel drops %d", list[0].Title, list[0].PeakPPS, live.Drops.Load())
}
