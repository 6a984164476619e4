package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestReplayedAttackLeavesCapture: an agent replays a capture in which
// web clients talk to a server for a few seconds before a DNS
// amplification hits it; the server ends up with the attack's pcapng,
// which tcpdump reads, holding packets from before the attack's start
// and from its first seconds, all to the target.
func TestReplayedAttackLeavesCapture(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		storetest.RequireReal(t, "tcpdump is not installed (apt-get install tcpdump)")
	}
	dir := t.TempDir()
	db, key := acmeOn(t, "--data-dir", dir)
	s := startServe(t, db...)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1"}`)
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 1000}
	other := pcapgen.Mix{Kind: pcapgen.WebClients(net.IPv4(203, 0, 113, 9)), PPS: 200}
	pcap := filepath.Join(dir, "attack.pcap")
	if _, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Phases: []pcapgen.Phase{
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, other}},
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, other, {Kind: pcapgen.Reflected(victim, 53, 1400), PPS: 15_000}}},
		{Duration: 12 * time.Second, Mixes: []pcapgen.Mix{web, other}},
	}}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, nil, "agent", "--server", s.url, "--token", node["token"].(string), "--prefix", "203.0.113.0/24",
		"--pcap", pcap, "--replay-speed", "max", "--threshold-pps", "15k", "--threshold-bps", "150M",
		"--threshold-amplification-pps", "5k", "--link-capacity", "1G", "--spool-dir", filepath.Join(dir, "spool"))
	if code != 0 {
		t.Fatalf("agent exited %d:\n%s", code, stderr)
	}
	_, list := call(t, "GET", s.url+"/api/v1/attacks", key, "")
	atk := list["data"].([]any)[0].(map[string]any)
	id := atk["id"].(string)
	started, _ := time.Parse(time.RFC3339Nano, atk["started_at"].(string))
	_, one := call(t, "GET", s.url+"/api/v1/attacks/"+id, key, "")
	if one["capture"] == nil {
		t.Fatalf("the attack has no capture: %v\nagent log:\n%s", one, stderr)
	}

	req, _ := http.NewRequest("GET", s.url+"/api/v1/attacks/"+id+"/pcap", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-pcapng" || !strings.Contains(res.Header.Get("Content-Disposition"), ".pcapng") {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	file := filepath.Join(dir, "download.pcapng")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tcpdump, "-r", file, "-n", "-tt").Output()
	if err != nil {
		t.Fatalf("tcpdump cannot read the capture: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var before, after int
	for _, l := range lines {
		f := strings.Fields(l)
		sec, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("tcpdump line %q", l)
		}
		at := time.Unix(0, int64(sec*1e9))
		if at.Before(started) {
			before++
		} else {
			after++
		}
		if !strings.Contains(l, "> 203.0.113.7.") {
			t.Fatalf("a packet not to the target: %s", l)
		}
	}
	t.Logf("capture: %d bytes, %d packets: %d before the attack's start (%s), %d after", len(body), len(lines), before, started.Format(time.RFC3339Nano), after)
	if before < 1000 || after < 1000 {
		t.Errorf("the capture holds %d packets before the onset and %d after; want the window before it and its first seconds", before, after)
	}
	// Bad uploads are refused whole, with a reason.
	up, _ := http.NewRequest("PUT", s.url+"/api/v1/agent/attacks/"+id+"/pcap", strings.NewReader("not a capture"))
	up.Header.Set("Authorization", "Bearer "+node["token"].(string))
	if res, err := http.DefaultClient.Do(up); err != nil || res.StatusCode != 422 {
		t.Errorf("a broken capture: %v %v", res.StatusCode, err)
	}
	up, _ = http.NewRequest("PUT", s.url+"/api/v1/agent/attacks/atk_unknown/pcap", strings.NewReader(string(body)))
	up.Header.Set("Authorization", "Bearer "+node["token"].(string))
	if res, err := http.DefaultClient.Do(up); err != nil || res.StatusCode != 404 {
		t.Errorf("a capture of an unknown attack: %v %v", res.StatusCode, err)
	}
}
