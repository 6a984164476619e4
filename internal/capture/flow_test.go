package capture_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/netnstest"
)

// TestNetFlowFromSoftflowd feeds the collector from a real exporter:
// softflowd watches one end of a veth pair and exports NetFlow v5, v9 and
// IPFIX to the collector on loopback, while tcpreplay sends a SYN flood
// into the other end; the detector sees the flood in the flows.
func TestNetFlowFromSoftflowd(t *testing.T) {
	pair := netnstest.Veth(t, "tcpreplay", "softflowd", "softflowctl")
	pcap := filepath.Join(t.TempDir(), "syn.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: start, Phases: []pcapgen.Phase{
		{Duration: 3 * time.Second, Mixes: []pcapgen.Mix{{Kind: pcapgen.TCPFlags(victim, 443, true, false, false, false), PPS: 20_000}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []int{5, 9, 10} {
		t.Run("v"+strconv.Itoa(version), func(t *testing.T) {
			c, err := capture.ListenFlows(capture.FlowNetFlow, "127.0.0.1:0", 1)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			x := startDetecting(c)
			stop := startExporter(t, "-i", pair.Host, "-n", c.Addr().String(), "-v", strconv.Itoa(version))
			pair.Replay(t, pcap)
			stop() // flushes the flows still open
			events := x.wait(t)
			t.Logf("NetFlow v%d: %d datagrams, %d records, %d undecodable", version, c.Datagrams.Load(), c.Records.Load(), c.Errors.Load())
			if len(events) == 0 || events[0].Type != detect.EventStarted || events[0].Classification != "syn_flood" || events[0].Target != "203.0.113.7" {
				t.Fatalf("events from flows: %+v", events)
			}
		})
	}
}

// startExporter runs softflowd in the foreground with a 1 s active timeout
// and returns the function that stops it gracefully (softflowctl
// shutdown, which exports the open flows) and waits for it.
func startExporter(t *testing.T, args ...string) func() {
	t.Helper()
	dir := t.TempDir()
	ctl := filepath.Join(dir, "ctl")
	log, err := os.Create(filepath.Join(dir, "softflowd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("softflowd", append(args, "-d", "-t", "maxlife=1", "-p", filepath.Join(dir, "pid"), "-c", ctl)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); log.Close() })
	// softflowd is ready once its control socket exists.
	for i := 0; ; i++ {
		if _, err := os.Stat(ctl); err == nil {
			break
		}
		if i > 100 {
			t.Fatal("softflowd never opened its control socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		if out, err := exec.Command("softflowctl", "-c", ctl, "shutdown").CombinedOutput(); err != nil {
			t.Logf("softflowctl shutdown: %v %s", err, out)
		}
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("softflowd did not stop:\n%s", out)
		}
	}
}

// TestSFlowFromPmacct feeds the sFlow collector from a real exporter:
// pmacct's pmacctd with its sfprobe plugin samples one end of a veth pair
// (1 in 4 packets) and exports sFlow v5 to the collector, while tcpreplay
// sends a DNS amplification flood into the other end.
func TestSFlowFromPmacct(t *testing.T) {
	pair := netnstest.Veth(t, "tcpreplay", "pmacctd")
	pcap := filepath.Join(t.TempDir(), "amp.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: start, Phases: []pcapgen.Phase{
		{Duration: 3 * time.Second, Mixes: []pcapgen.Mix{{Kind: pcapgen.Reflected(victim, 53, 1400), PPS: 15_000}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := capture.ListenFlows(capture.FlowSFlow, "127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x := startDetecting(c)
	dir := t.TempDir()
	conf := filepath.Join(dir, "pmacctd.conf")
	err = os.WriteFile(conf, []byte("daemonize: false\npcap_interface: "+pair.Host+"\nplugins: sfprobe\n"+
		"sfprobe_receiver: "+c.Addr().String()+"\nsfprobe_agentip: 127.0.0.1\nsampling_rate: 4\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "pmacctd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ifi, err := net.InterfaceByName(pair.Host)
	if err != nil {
		t.Fatal(err)
	}
	pm := exec.Command("pmacctd", "-f", conf)
	pm.Stdout, pm.Stderr = log, log
	if err := pm.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pm.Process.Kill(); _ = pm.Wait() }()
	// pmacctd is capturing once a packet socket is bound to the interface.
	for i := 0; packetSocketsOn(t, ifi.Index) == 0; i++ {
		if i > 250 {
			t.Fatal("pmacctd never opened its capture")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pair.Replay(t, pcap)
	events := x.wait(t)
	t.Logf("sFlow: %d datagrams, %d samples standing for %d packets", c.Datagrams.Load(), c.Records.Load(), x.sampled)
	if len(events) == 0 || events[0].Classification != "dns_amplification" || events[0].Target != "203.0.113.7" {
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("events from sFlow: %+v\npmacctd:\n%s", events, out)
	}
}

// packetSocketsOn counts the AF_PACKET sockets bound to an interface
// (the Iface column of /proc/net/packet).
func packetSocketsOn(t *testing.T, ifindex int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/packet")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 4 && f[4] == strconv.Itoa(ifindex) {
			n++
		}
	}
	return n
}

// detecting runs a collector into a detector in the background.
type detecting struct {
	mu      sync.Mutex
	d       *detect.Detector
	events  []detect.Event
	sampled uint64 // packets the records stand for
	cancel  context.CancelFunc
	done    chan error
}

func startDetecting(c *capture.FlowCollector) *detecting {
	return startDetectingWith(c, testSettings())
}

// startDetectingWith runs a detector with settings s on what the
// collector receives.
func startDetectingWith(c *capture.FlowCollector, s detect.Settings) *detecting {
	ctx, cancel := context.WithCancel(context.Background())
	x := &detecting{d: detect.New(s), cancel: cancel, done: make(chan error, 1)}
	go func() {
		x.done <- c.Run(ctx, func(batch []detect.Packet) error {
			x.mu.Lock()
			defer x.mu.Unlock()
			for i := range batch {
				x.sampled += batch[i].Count
				x.events = append(x.events, x.d.Observe(&batch[i])...)
			}
			return nil
		})
	}()
	return x
}

// wait closes ticks by the wall clock until an event comes (or 10 s
// pass), stops the collector and returns the events.
func (x *detecting) wait(t *testing.T) []detect.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		x.mu.Lock()
		x.events = append(x.events, x.d.Flush(time.Now())...)
		n := len(x.events)
		x.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.cancel()
	if err := <-x.done; err != nil {
		t.Fatal(err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.events
}
