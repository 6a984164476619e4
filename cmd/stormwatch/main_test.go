package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/proctest"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var binary string

// TestMain builds the real binary once; the tests below drive it as a user
// would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stormwatch-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "stormwatch")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary to completion and returns stdout, stderr and the
// exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// cleanEnv is the test's environment without STORMWATCH_ settings, so a
// developer's shell cannot change what the binary does.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STORMWATCH_") {
			out = append(out, kv)
		}
	}
	return out
}

type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *proctest.Output
	done   chan error
}

// await waits until a log line matches re and returns its first group.
func (s *server) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line matches %s:\n%s", re, s.stderr)
	return ""
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServe runs "stormwatch serve" on a free port and waits until it
// listens.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &proctest.Output{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start listening:\n%s", s.stderr)
	}
	return s
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m) // non-JSON bodies (readyz) leave m nil
	return res.StatusCode, m
}

// backends are the databases the binary tests run on: the flags that
// point a command at a fresh one.
var backends = []struct {
	name string
	args func(t *testing.T) []string
}{
	{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} }},
	{"postgres", func(t *testing.T) []string { return []string{"--database-url", storetest.FreshSchema(t)} }},
}

func TestBinaryEndToEnd(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.args(t)
			key, stderr, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme Games"}, db...)...)
			key = strings.TrimSpace(key)
			if code != 0 || !strings.HasPrefix(key, "swk_") || strings.Contains(key, "\n") {
				t.Fatalf("workspace create: code %d, stdout %q, stderr %s", code, key, stderr)
			}
			other, _, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "globex", "--name", "Globex"}, db...)...)
			other = strings.TrimSpace(other)
			if code != 0 {
				t.Fatalf("second workspace: code %d", code)
			}

			s := startServe(t, db...)
			if code, _ := call(t, "GET", s.url+"/readyz", "", ""); code != 200 {
				t.Fatalf("/readyz = %d", code)
			}
			code, comp := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"US-East game 01","slug":"us-east-game-01"}`)
			if code != 201 {
				t.Fatalf("create component = %d %v", code, comp)
			}
			code, inc := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"DDoS attack detected on US-East cluster","status":"investigating",
				"impact":"major","message":"We are mitigating a UDP flood.","components":{"us-east-game-01":"partial_outage"}}`)
			if code != 201 {
				t.Fatalf("create incident = %d %v", code, inc)
			}
			for _, path := range []string{"/api/v1/components/" + comp["id"].(string), "/api/v1/components/us-east-game-01", "/api/v1/incidents/" + inc["id"].(string)} {
				if code, body := call(t, "GET", s.url+path, other, ""); code != 404 {
					t.Errorf("other workspace's key GET %s = %d %v, want 404", path, code, body)
				}
				if code, _ := call(t, "GET", s.url+path, key, ""); code != 200 {
					t.Errorf("own key GET %s = %d, want 200", path, code)
				}
			}
			if code, _ := call(t, "GET", s.url+"/metrics", "", ""); code != 200 {
				t.Errorf("/metrics = %d", code)
			}

			// An open event stream must not hold the shutdown up.
			stream, err := http.Get(s.url + "/s/acme/events")
			if err != nil || stream.StatusCode != 200 {
				t.Fatalf("event stream: %v", err)
			}
			defer stream.Body.Close()
			if _, err := stream.Body.Read(make([]byte, 64)); err != nil {
				t.Fatalf("event stream sent nothing: %v", err)
			}
			stopAt := time.Now()
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-s.done:
				if err != nil {
					t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, s.stderr)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("serve did not stop after SIGTERM:\n%s", s.stderr)
			}
			if !strings.Contains(s.stderr.String(), "msg=stopped") {
				t.Errorf("no clean stop in log:\n%s", s.stderr)
			}
			if took := time.Since(stopAt); took > 5*time.Second {
				t.Errorf("shutdown took %v with an event stream open", took)
			}
			if _, err := io.ReadAll(stream.Body); err != nil && !strings.Contains(err.Error(), "EOF") {
				t.Logf("stream ended with %v", err)
			}
		})
	}
}

func TestConfigErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badKey, []byte("adr: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown yaml key", nil, []string{"serve", "--config", badKey}, `unknown key "adr"`},
		{"bad dsn", nil, []string{"serve", "--database-url", "mysql://x@y/z"}, "database-url:"},
		{"bad dsn from env", []string{"STORMWATCH_DATABASE_URL=postgres:///nohost"}, []string{"migrate"}, "database-url: no host"},
		{"data dir is a file", nil, []string{"serve", "--data-dir", aFile}, "data-dir:"},
		{"unknown flag", nil, []string{"serve", "--nope"}, "-nope"},
		{"bad addr", nil, []string{"serve", "--addr", "8080", "--data-dir", dir}, "addr:"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud", "--data-dir", dir}, "log-level:"},
		{"workspace without slug", nil, []string{"workspace", "create", "--name", "x", "--data-dir", dir}, "--slug: is required"},
		{"unknown command", nil, []string{"serv"}, `unknown command "serv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.env, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not name %q", stderr, tt.want)
			}
		})
	}
}

func TestHelpTeaches(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"workspace", "create", "--help"}, {"version", "--help"}} {
		stdout, stderr, code := runCLI(t, nil, args...)
		out := stdout + stderr
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%v: code %d, output:\n%s", args, code, out)
		}
		if args[0] == "serve" && (!strings.Contains(out, "STORMWATCH_DATABASE_URL") || !strings.Contains(out, "Examples")) {
			t.Errorf("serve --help lacks env names or examples:\n%s", out)
		}
	}
	stdout, _, code := runCLI(t, nil, "version")
	if code != 0 || !strings.Contains(stdout, "go1.") {
		t.Errorf("version: %d %q", code, stdout)
	}
}

func TestAgentReportsReplayedAttack(t *testing.T) {
	dir := t.TempDir()
	key, _, code := runCLI(t, nil, "workspace", "create", "--slug", "acme", "--name", "Acme", "--data-dir", dir)
	key = strings.TrimSpace(key)
	if code != 0 {
		t.Fatal("workspace create failed")
	}
	s := startServe(t, "--data-dir", dir)
	code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1"}`)
	if code != 201 {
		t.Fatalf("create node: %d %v", code, node)
	}
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 1000}
	pcap := filepath.Join(dir, "attack.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Phases: []pcapgen.Phase{
		{Duration: 2 * time.Second, Mixes: []pcapgen.Mix{web}},
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, {Kind: pcapgen.Reflected(victim, 53, 1400), PPS: 15_000}}},
		{Duration: 14 * time.Second, Mixes: []pcapgen.Mix{web}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, nil, "agent", "--server", s.url, "--token", node["token"].(string), "--prefix", "203.0.113.0/24",
		"--pcap", pcap, "--replay-speed", "max", "--threshold-pps", "15k", "--threshold-bps", "150M",
		"--threshold-amplification-pps", "5k", "--link-capacity", "1G", "--spool-dir", filepath.Join(dir, "spool"))
	if code != 0 {
		t.Fatalf("agent exited %d:\n%s", code, stderr)
	}
	code, list := call(t, "GET", s.url+"/api/v1/attacks", key, "")
	attacks := list["data"].([]any)
	if code != 200 || len(attacks) != 1 {
		t.Fatalf("attacks: %d %v", code, list)
	}
	a := attacks[0].(map[string]any)
	if a["classification"] != "dns_amplification" || a["phase"] != "ended" || a["target"] != "203.0.113.7" ||
		!strings.HasPrefix(a["title"].(string), "UDP flood (DNS amplification) on 203.0.113.7") {
		t.Fatalf("attack = %v", a)
	}
	code, nodeNow := call(t, "GET", s.url+"/api/v1/nodes/"+node["id"].(string), key, "")
	if code != 200 || nodeNow["last_heartbeat_at"] == nil {
		t.Errorf("no heartbeat recorded: %v", nodeNow)
	}
	_, stderr, code = runCLI(t, nil, "agent", "--server", s.url, "--token", "nope", "--prefix", "203.0.113.0/24", "--pcap", pcap)
	if code != 2 || !strings.Contains(stderr, "token:") {
		t.Errorf("bad token: exit %d, %s", code, stderr)
	}
}

func TestRulesCheckCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.rules")
	good := filepath.Join(dir, "good.rules")
	if err := os.WriteFile(bad, []byte("severity >= high -> publish immediately\n\nseverity >= huge -> draft\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("severity >= high -> publish immediately\nseverity == medium -> publish after 60s if unresolved\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, nil, "rules", "check", bad)
	if code != 1 || !strings.HasPrefix(stderr, bad+":3:13: severity is one of") {
		t.Fatalf("bad file: exit %d, %q", code, stderr)
	}
	stdout, _, code := runCLI(t, nil, "rules", "check", good, "--severity", "medium", "--attack", "syn_flood")
	if code != 0 || !strings.Contains(stdout, "2 rules, valid") || !strings.Contains(stdout, "publish after 1m0s") {
		t.Fatalf("good file: exit %d, %q", code, stdout)
	}
	if _, _, code := runCLI(t, nil, "workspace", "create", "--slug", "acme", "--name", "Acme", "--data-dir", dir); code != 0 {
		t.Fatal("workspace create")
	}
	stdout, stderr, code = runCLI(t, nil, "rules", "check", good, "--replay", "7", "--workspace", "acme", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "0 of 0 attacks in the past 7 days would have been public") {
		t.Fatalf("replay: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestAutoPublishEndToEnd: an agent replays a SYN flood; the server
// publishes an incident on the component, keeps it updated, and resolves
// it after the hold-down, with every step on the public page and in the
// audit log.
func TestAutoPublishEndToEnd(t *testing.T) {
	dir := t.TempDir()
	key, _, code := runCLI(t, nil, "workspace", "create", "--slug", "acme", "--name", "Acme", "--data-dir", dir)
	key = strings.TrimSpace(key)
	if code != 0 {
		t.Fatal("workspace create failed")
	}
	s := startServe(t, "--data-dir", dir, "--resolve-after", "2s")
	if code, _ := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"US-East game 01","slug":"us-east-game-01"}`); code != 201 {
		t.Fatal("component")
	}
	code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1","components":["us-east-game-01"]}`)
	if code != 201 {
		t.Fatal("node")
	}
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 1000}
	pcap := filepath.Join(dir, "syn.pcap")
	_, err := pcapgen.Write(pcap, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Phases: []pcapgen.Phase{
		{Duration: 2 * time.Second, Mixes: []pcapgen.Mix{web}},
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, {Kind: pcapgen.TCPFlags(victim, 443, true, false, false, false), PPS: 30_000}}},
		{Duration: 14 * time.Second, Mixes: []pcapgen.Mix{web}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	speed := 2
	if v, err := strconv.Atoi(os.Getenv("SW_E2E_SPEED")); err == nil && v > 0 {
		speed = v
	}
	agent := exec.Command(binary, "agent", "--server", s.url, "--token", node["token"].(string), "--prefix", "203.0.113.0/24",
		"--pcap", pcap, "--replay-speed", strconv.Itoa(speed)+"x", "--threshold-pps", "15k", "--threshold-bps", "150M", "--threshold-syn-pps", "5k",
		"--link-capacity", "1G", "--spool-dir", filepath.Join(dir, "spool"),
		// A mitigation hook that succeeds: the agent reports attack.mitigating.
		"--mitigation-command", "true")
	agent.Env = cleanEnv()
	var agentLog bytes.Buffer
	agent.Stderr = &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	// The flood starts 2 s into the capture. SW_E2E_SPEED=1 replays at
	// recorded timing, for the figure in BENCHMARKS.md; tests use 2x.
	floodAt := time.Now().Add(2 * time.Second / time.Duration(speed))
	agentDone := make(chan error, 1)
	go func() { agentDone <- agent.Wait() }()

	// The incident appears on the public page while the attack goes on.
	var summary map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, summary = call(t, "GET", s.url+"/s/acme/api/v2/summary.json", "", "")
		if incs, _ := summary["incidents"].([]any); len(incs) > 0 {
			// Polled every 100 ms: the figure is at most that late.
			t.Logf("first attack packet to incident in summary.json: %v", time.Since(floodAt).Round(10*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident published; agent:\n%s\nserver:\n%s", agentLog.String(), s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	inc := summary["incidents"].([]any)[0].(map[string]any)
	comps := inc["components"].([]any)
	if inc["name"] != "DDoS attack affecting US-East game 01" || len(comps) != 1 || comps[0].(map[string]any)["status"] != "partial_outage" ||
		summary["status"].(map[string]any)["indicator"] != "major" {
		t.Fatalf("published incident: %v", summary)
	}
	res, err := http.Get(s.url + "/s/acme/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(html), "DDoS attack affecting US-East game 01") || strings.Contains(string(html), "203.0.113.7") {
		t.Errorf("HTML page: incident missing or target address shown")
	}
	if err := <-agentDone; err != nil {
		t.Fatalf("agent: %v\n%s", err, agentLog.String())
	}
	// Resolved after the hold-down, with the whole timeline.
	var list map[string]any
	for deadline = time.Now().Add(30 * time.Second); ; {
		_, list = call(t, "GET", s.url+"/api/v1/incidents", key, "")
		if data := list["data"].([]any); len(data) == 1 && data[0].(map[string]any)["status"] == "resolved" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never resolved: %v", list)
		}
		time.Sleep(100 * time.Millisecond)
	}
	final := list["data"].([]any)[0].(map[string]any)
	var statuses []string
	for _, u := range final["updates"].([]any) {
		statuses = append(statuses, u.(map[string]any)["status"].(string))
	}
	if got := strings.Join(statuses, " "); !strings.HasPrefix(got, "resolved monitoring") || !strings.HasSuffix(got, "identified investigating") {
		t.Errorf("timeline (newest first): %s", got)
	}
	_, audit := call(t, "GET", s.url+"/api/v1/audit-log?limit=100", key, "")
	var actions []string
	for _, e := range audit["data"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	joined := strings.Join(actions, " ")
	for _, want := range []string{"automation.published", "automation.updated", "automation.resolved"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit log lacks %s: %s", want, joined)
		}
	}
	_, page := call(t, "GET", s.url+"/s/acme/api/v2/status.json", "", "")
	if page["status"].(map[string]any)["indicator"] != "none" {
		t.Errorf("after resolution: %v", page)
	}
}

func TestDemo(t *testing.T) {
	stdout, stderr, code := runCLI(t, nil, "demo", "--addr", "127.0.0.1:0", "--replay-speed", "8x", "--resolve-after", "1s", "--exit-when-done")
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"/s/demo/", "agent: detected — UDP flood (DNS amplification)", `"DDoS attack affecting US-East game 01, US-East game 02" is investigating`, "is resolved", "» webhook incident.created"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}
