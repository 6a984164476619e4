package capture_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// corpusDir holds the labelled captures scripts/corpus.sh makes with real
// tools (hping3, bind9, snmpd, memcached, nginx, wrk, ab, iperf3, ...).
const corpusDir = "../../testdata/corpus"

// corpus returns the labels, skipping (failing under CI=true) when the
// captures have not been made on this machine.
func corpus(t *testing.T) []detect.Label {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := detect.ParseLabels(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if _, err := os.Stat(filepath.Join(corpusDir, l.Capture)); err != nil {
			storetest.RequireReal(t, "the detection corpus (%s): run scripts/corpus.sh as root", l.Capture)
		}
	}
	return labels
}

// TestCorpusWithDefaultSettings replays every labelled capture through the
// detector with the defaults as shipped: each attack is named by its
// family first, and benign traffic raises nothing.
func TestCorpusWithDefaultSettings(t *testing.T) {
	for _, l := range corpus(t) {
		t.Run(strings.TrimSuffix(l.Capture, ".pcap"), func(t *testing.T) {
			t.Parallel()
			s := detect.DefaultSettings()
			s.Prefixes = append(s.Prefixes, l.Prefix)
			events, st, err := capture.DetectFile(context.Background(), filepath.Join(corpusDir, l.Capture), s)
			if err != nil {
				t.Fatal(err)
			}
			got := detect.Named(events)
			if !detect.Matches(l.Expected, got) {
				var report []string
				for _, e := range events {
					if e.Type == detect.EventStarted {
						report = append(report, e.Title+" ("+e.Reason+")")
					}
				}
				t.Fatalf("%s: expected %s, named %s: %s", l.Capture, l.Expected, got, strings.Join(report, "; "))
			}
			if l.Expected == detect.None {
				return
			}
			first := events[0]
			if lat := first.At.Sub(st.First); lat > 3*1e9 { // the attack starts 1.5 s into the capture
				t.Errorf("detected %v into the capture", lat)
			}
			t.Logf("%s: %s, severity %s, %s", l.Capture, first.Title, first.Severity, first.Reason)
		})
	}
}

// TestCorpusThroughSoftflowd exports corpus captures as NetFlow v9 with a
// real exporter (softflowd reading the capture, 1 s active timeout) into
// the collector, and checks what the detector names from the flow
// records with the default settings: the signatures a flow record keeps
// (TCP flags of the whole flow, both directions, source ports) name the
// same families as the packets do.
func TestCorpusThroughSoftflowd(t *testing.T) {
	if _, err := exec.LookPath("softflowd"); err != nil {
		storetest.RequireReal(t, "softflowd (apt-get install softflowd)")
	}
	byName := map[string]detect.Label{}
	for _, l := range corpus(t) {
		byName[l.Capture] = l
	}
	for _, name := range []string{"syn-spoofed.pcap", "ack-flood.pcap", "udp-flood.pcap", "dns-amplification.pcap",
		"memcached-amplification.pcap", "benign-wrk-keepalive.pcap", "benign-iperf-tcp.pcap", "benign-dns-server.pcap"} {
		l := byName[name]
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			c, err := capture.ListenFlows(capture.FlowNetFlow, "127.0.0.1:0", 1)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s := detect.DefaultSettings()
			s.Prefixes = []netip.Prefix{l.Prefix}
			x := startDetectingWith(c, s)
			out, err := exec.Command("softflowd", "-r", filepath.Join(corpusDir, name), "-n", c.Addr().String(), "-v", "9",
				"-t", "maxlife=1", "-d").CombinedOutput()
			if err != nil {
				t.Fatalf("softflowd: %v\n%s", err, out)
			}
			events := x.wait(t)
			got := detect.Named(events)
			t.Logf("%s: %d datagrams, %d records: named %s", name, c.Datagrams.Load(), c.Records.Load(), got)
			if !detect.Matches(l.Expected, got) {
				for _, e := range events {
					if e.Type == detect.EventStarted {
						t.Logf("raised: %s (%s)", e.Title, e.Reason)
					}
				}
				t.Errorf("from flows: expected %s, named %s", l.Expected, got)
			}
		})
	}
}
