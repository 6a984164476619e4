package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/bgpspeaker/birdtest"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
)

// bgpFile writes the agent's --bgp file for the BIRD peer of the test.
func bgpFile(t *testing.T, dir, hold string) string {
	t.Helper()
	path := filepath.Join(dir, "bgp.yaml")
	conf := fmt.Sprintf(`router_id: %s
local_as: %d
next_hop: %s
peers:
  - address: %s
    as: %d
    local_address: %s
policy:
  hold: %s
  max_blackholes: 5
  communities: ["64500:9999"]
  rules:
    - min_severity: high
      blackhole: true
      flowspec: true
`, birdtest.HostAddr, birdtest.HostAS, birdtest.HostAddr, birdtest.BirdAddr, birdtest.BirdAS, birdtest.HostAddr, hold)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// attackCapture writes a capture: web clients, then a DNS amplification
// on 203.0.113.7 for flood, then quiet for tail.
func attackCapture(t *testing.T, path string, flood, tail time.Duration) {
	t.Helper()
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 500}
	phases := []pcapgen.Phase{{Duration: 2 * time.Second, Mixes: []pcapgen.Mix{web}}}
	if flood > 0 {
		phases = append(phases, pcapgen.Phase{Duration: flood, Mixes: []pcapgen.Mix{web, {Kind: pcapgen.Reflected(victim, 53, 1400), PPS: 15_000}}})
	}
	phases = append(phases, pcapgen.Phase{Duration: tail, Mixes: []pcapgen.Mix{web}})
	if _, err := pcapgen.Write(path, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Phases: phases}); err != nil {
		t.Fatal(err)
	}
}

// TestAgentMitigatesWithBGP: an agent replaying an amplification attack
// peers with BIRD (a real BGP speaker from Debian, in a network
// namespace); BIRD's own CLI shows the blackhole route with the RTBH and
// provider communities and the FlowSpec rule for the vector while the
// attack lasts, and neither once it ended and the hold passed; the
// server's timeline carries what was announced and its audit log every
// announce and withdraw.
func TestAgentMitigatesWithBGP(t *testing.T) {
	bird := birdtest.Start(t)
	dir := t.TempDir()
	db, key := acmeOn(t, "--data-dir", dir)
	s := startServe(t, db...)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1"}`)
	pcap := filepath.Join(dir, "attack.pcap")
	attackCapture(t, pcap, 6*time.Second, 14*time.Second)
	agent := exec.Command(binary, "agent", "--server", s.url, "--token", node["token"].(string), "--prefix", "203.0.113.0/24",
		"--pcap", pcap, "--replay-speed", "1x", "--threshold-pps", "15k", "--threshold-bps", "150M", "--threshold-amplification-pps", "5k",
		"--link-capacity", "1G", "--hold-down", "2s", "--spool-dir", filepath.Join(dir, "spool"), "--bgp", bgpFile(t, dir, "2s"))
	agent.Env = cleanEnv()
	var log bytes.Buffer
	agent.Stderr = &log
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- agent.Wait() }()
	t.Cleanup(func() { _ = agent.Process.Kill() })
	started := time.Now()

	routes := bird.Await(t, "show route all table master4", 20*time.Second, func(out string) bool { return strings.Contains(out, "203.0.113.7/32") })
	t.Logf("blackhole at BIRD %v after the replay began (the flood starts at 2 s)", time.Since(started).Round(10*time.Millisecond))
	if !strings.Contains(routes, "(65535,666)") || !strings.Contains(routes, "(64500,9999)") {
		t.Errorf("the blackhole lacks its communities:\n%s", routes)
	}
	flows := bird.Await(t, "show route all table flowtab4", 10*time.Second, func(out string) bool { return strings.Contains(out, "flow4 {") })
	for _, want := range []string{"dst 203.0.113.7/32", "proto 17", "sport 53"} {
		if !strings.Contains(flows, want) {
			t.Errorf("the FlowSpec rule lacks %q:\n%s", want, flows)
		}
	}
	// After the flood (2-8 s), the hold-down (2 s) and the hold (2 s),
	// both go, while the replay (20 s) still runs.
	bird.Await(t, "show route all table master4", 20*time.Second, func(out string) bool { return !strings.Contains(out, "203.0.113.7/32") })
	bird.Await(t, "show route all table flowtab4", 5*time.Second, func(out string) bool { return !strings.Contains(out, "flow4 {") })
	withdrawn := time.Since(started)
	t.Logf("both withdrawn %v after the replay began", withdrawn.Round(10*time.Millisecond))
	select {
	case err := <-done:
		t.Fatalf("the agent exited before the withdrawal could be told from its shutdown (%v):\n%s", err, log.String())
	default:
	}
	if err := <-done; err != nil {
		t.Fatalf("agent: %v\n%s", err, log.String())
	}

	_, list := call(t, "GET", s.url+"/api/v1/attacks", key, "")
	id := list["data"].([]any)[0].(map[string]any)["id"].(string)
	_, atk := call(t, "GET", s.url+"/api/v1/attacks/"+id, key, "")
	var mitigating map[string]any
	for _, e := range atk["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "attack.mitigating" {
			mitigating = ev
		}
	}
	if mitigating == nil || !strings.Contains(fmt.Sprint(mitigating["mitigation"]), "blackhole 203.0.113.7/32 communities 65535:666 64500:9999") {
		t.Errorf("the timeline does not say what was announced: %v", mitigating)
	}
	_, audit := call(t, "GET", s.url+"/api/v1/audit-log?limit=200", key, "")
	counts := map[string]int{}
	for _, e := range audit["data"].([]any) {
		counts[e.(map[string]any)["action"].(string)]++
	}
	if counts["mitigation.announce"] != 2 || counts["mitigation.withdraw"] != 2 || counts["mitigation.peer_up"] < 1 {
		t.Errorf("audit log: %v", counts)
	}
}

// TestRestartedAgentWithdrawsStaleRoutes: an agent killed mid-attack
// leaves its blackhole at the peer (graceful restart keeps it through a
// crash); started again once the attack is over, it withdraws what the
// killed run had announced.
func TestRestartedAgentWithdrawsStaleRoutes(t *testing.T) {
	bird := birdtest.Start(t)
	dir := t.TempDir()
	db, key := acmeOn(t, "--data-dir", dir)
	s := startServe(t, db...)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1"}`)
	conf := bgpFile(t, dir, "10m")
	attack := filepath.Join(dir, "attack.pcap")
	attackCapture(t, attack, 30*time.Second, time.Second)
	args := func(pcap string) []string {
		return []string{"agent", "--server", s.url, "--token", node["token"].(string), "--prefix", "203.0.113.0/24", "--pcap", pcap,
			"--replay-speed", "1x", "--threshold-pps", "15k", "--threshold-bps", "150M", "--threshold-amplification-pps", "5k",
			"--link-capacity", "1G", "--spool-dir", filepath.Join(dir, "spool"), "--bgp", conf}
	}
	first := exec.Command(binary, args(attack)...)
	first.Env = cleanEnv()
	var log bytes.Buffer
	first.Stderr = &log
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	bird.Await(t, "show route all table master4", 20*time.Second, func(out string) bool { return strings.Contains(out, "203.0.113.7/32") })
	if err := first.Process.Kill(); err != nil { // SIGKILL: no chance to withdraw
		t.Fatal(err)
	}
	_ = first.Wait()
	time.Sleep(time.Second)
	// Graceful restart: the blackhole stays while the agent is away, so
	// only the restarted agent can be what withdraws it below.
	if out, _ := bird.CLI("show route all table master4"); !strings.Contains(out, "203.0.113.7/32") {
		t.Fatalf("the peer dropped the route with the session; graceful restart should keep it:\n%s", out)
	}
	state, err := os.ReadFile(filepath.Join(dir, "spool", "bgp-announced.json"))
	if err != nil || !strings.Contains(string(state), "203.0.113.7/32") {
		t.Fatalf("the killed agent's list of announcements: %s %v", state, err)
	}

	quiet := filepath.Join(dir, "quiet.pcap")
	attackCapture(t, quiet, 0, 6*time.Second)
	second := exec.Command(binary, args(quiet)...)
	second.Env = cleanEnv()
	var log2 bytes.Buffer
	second.Stderr = &log2
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Process.Kill() })
	bird.Await(t, "show route all table master4", 20*time.Second, func(out string) bool { return !strings.Contains(out, "203.0.113.7/32") })
	if err := second.Wait(); err != nil {
		t.Fatalf("second agent: %v\n%s", err, log2.String())
	}
	if !strings.Contains(log2.String(), "withdrew an announcement left by an earlier run") {
		t.Errorf("the restarted agent does not say it withdrew the stale route:\n%s", log2.String())
	}
	if state, _ := os.ReadFile(filepath.Join(dir, "spool", "bgp-announced.json")); strings.Contains(string(state), "203.0.113.7") {
		t.Errorf("the list still holds the withdrawn route: %s", state)
	}
	_, audit := call(t, "GET", s.url+"/api/v1/audit-log?limit=200", key, "")
	if !strings.Contains(fmt.Sprint(audit), "left announced by an earlier run") {
		t.Errorf("the audit log lacks the stale withdrawal")
	}
}
