// Package birdtest runs BIRD 2, a real BGP speaker from Debian, in a
// network namespace for tests: it peers with whatever the test runs on
// the host side of a veth pair, and its own CLI (birdc) says which routes
// and FlowSpec rules it received.
package birdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/netnstest"
	"github.com/stormwatch/stormwatch/internal/proctest"
)

// Addresses of the test network: the host (the agent) and BIRD.
const (
	HostAddr = "10.99.0.1"
	BirdAddr = "10.99.0.2"
	HostAS   = 65000
	BirdAS   = 65001
)

// Bird is a running BIRD.
type Bird struct {
	Pair   netnstest.Pair
	socket string
}

// Start makes a veth pair, addresses it, and starts BIRD in the
// namespace, passive, waiting for the host's session. Without root or
// BIRD the test skips on a laptop and fails under CI=true.
func Start(t *testing.T) *Bird {
	t.Helper()
	p := netnstest.Veth(t, "bird", "birdc")
	netnstest.Run(t, "ip", "addr", "add", HostAddr+"/24", "dev", p.Host)
	netnstest.Run(t, "ip", "netns", "exec", p.NS, "ip", "addr", "add", BirdAddr+"/24", "dev", p.Peer)
	netnstest.Run(t, "ip", "netns", "exec", p.NS, "ip", "link", "set", "lo", "up")
	dir := t.TempDir()
	conf := filepath.Join(dir, "bird.conf")
	b := &Bird{Pair: p, socket: filepath.Join(dir, "bird.ctl")}
	cfg := fmt.Sprintf(`router id %s;
protocol device {}
ipv4 table master4;
ipv6 table master6;
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp agent {
	local %s as %d;
	neighbor %s as %d;
	passive on;
	hold time 30;
	ipv4 { import all; export none; };
	ipv6 { import all; export none; };
	flow4 { import all; export none; };
	flow6 { import all; export none; };
}
`, BirdAddr, BirdAddr, BirdAS, HostAddr, HostAS)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out := proctest.Start(t, "bird", exec.Command("ip", "netns", "exec", p.NS, "bird", "-f", "-c", conf, "-s", b.socket, "-P", filepath.Join(dir, "bird.pid")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.CLI("show status"); err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("bird did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CLI runs one birdc command and returns its output.
func (b *Bird) CLI(command string) (string, error) {
	out, err := exec.Command("birdc", append([]string{"-s", b.socket}, strings.Fields(command)...)...).CombinedOutput()
	return string(out), err
}

// Await waits until birdc's output for command satisfies ok, and returns
// it; the test fails after timeout.
func (b *Bird) Await(t *testing.T, command string, timeout time.Duration, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := b.CLI(command)
		if err == nil && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("birdc %q never showed what the test waits for:\n%s", command, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
