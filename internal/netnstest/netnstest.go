// Package netnstest makes throw-away test networks: a veth pair with one
// end in this network namespace and the other in a new namespace, so that
// tests can send real traffic on real interfaces without touching any
// other network.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"

	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// Pair is a veth pair: Host is in this namespace, Peer in namespace NS.
type Pair struct {
	Host, Peer, NS string
}

// Veth creates a pair and removes it when the test ends. The tools named
// in needs (besides ip) must be installed; without them, or without root,
// the test skips on a laptop and fails under CI=true.
func Veth(t *testing.T, needs ...string) Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		storetest.RequireReal(t, "root, to create a network namespace")
	}
	for _, tool := range append([]string{"ip"}, needs...) {
		if _, err := exec.LookPath(tool); err != nil {
			storetest.RequireReal(t, "%s (apt-get install iproute2 %s)", tool, tool)
		}
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	p := Pair{Host: "swa" + id, Peer: "swb" + id, NS: "sw" + id}
	Run(t, "ip", "netns", "add", p.NS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.NS).Run() })
	Run(t, "ip", "link", "add", p.Host, "type", "veth", "peer", "name", p.Peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", p.Host).Run() })
	Run(t, "ip", "link", "set", p.Peer, "netns", p.NS)
	Run(t, "ip", "link", "set", p.Host, "up")
	Run(t, "ip", "netns", "exec", p.NS, "ip", "link", "set", p.Peer, "up")
	return p
}

// Run runs a command and fails the test if it fails.
func Run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// Replay sends a capture out of the pair's peer end with tcpreplay, at the
// capture's own timing.
func (p Pair) Replay(t *testing.T, pcap string) {
	t.Helper()
	Run(t, "ip", "netns", "exec", p.NS, "tcpreplay", "--intf1="+p.Peer, pcap)
}
