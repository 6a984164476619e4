package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestDefaultsPublishRealAttacks runs the real server and three real
// agents, every setting as shipped, replaying captures made with real
// tools (scripts/corpus.sh) at their recorded timing: a 30 kpps SYN flood
// is published within seconds (high severity: the default rules publish
// at once), a 60 Mbit/s DNS amplification after the default rules' minute
// (medium severity: "publish after 60s if unresolved"), and wrk's
// keep-alive load at this machine's top rate publishes nothing.
func TestDefaultsPublishRealAttacks(t *testing.T) {
	corpus := "../../testdata/corpus"
	captures := map[string]string{"syn": "syn-spoofed.pcap", "dns": "dns-amplification-70s.pcap", "web": "benign-wrk-keepalive.pcap"}
	for _, c := range captures {
		if _, err := os.Stat(filepath.Join(corpus, c)); err != nil {
			storetest.RequireReal(t, "the detection corpus (%s): run scripts/corpus.sh as root", c)
		}
	}
	dir := t.TempDir()
	db, key := acmeOn(t, "--data-dir", dir)
	// The agents exit when their replays end: silence is not what is tested.
	s := startServe(t, append(db, "--node-silence", "0")...)
	tokens, nodes := map[string]string{}, map[string]string{}
	for name := range captures {
		if code, _ := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"`+name+`","slug":"`+name+`"}`); code != 201 {
			t.Fatal("component")
		}
		code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-`+name+`","components":["`+name+`"]}`)
		if code != 201 {
			t.Fatal("node")
		}
		tokens[name], nodes[name] = node["token"].(string), node["id"].(string)
	}
	start := time.Now()
	var wg sync.WaitGroup
	logs := map[string]*bytes.Buffer{}
	for name, file := range captures {
		logs[name] = &bytes.Buffer{}
		cmd := exec.Command(binary, "agent", "--server", s.url, "--token", tokens[name], "--prefix", "10.99.0.2/32",
			"--pcap", filepath.Join(corpus, file), "--replay-speed", "1x", "--spool-dir", filepath.Join(dir, "spool-"+name))
		cmd.Env = cleanEnv()
		cmd.Stderr = logs[name]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				t.Errorf("agent %s: %v\n%s", name, err, logs[name])
			}
		})
	}
	// tcpdump wrote nothing before the first attack packet: each attack
	// starts with its capture.
	onset := start
	published := map[string]time.Duration{}
	for deadline := time.Now().Add(100 * time.Second); len(published) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, summary := call(t, "GET", s.url+"/s/acme/api/v2/summary.json", "", "")
		incs, _ := summary["incidents"].([]any)
		for _, i := range incs {
			for _, c := range i.(map[string]any)["components"].([]any) {
				name := c.(map[string]any)["name"].(string)
				if _, ok := published[name]; !ok {
					published[name] = time.Since(onset)
					t.Logf("%s: first attack packet to incident in summary.json: %v", name, published[name].Round(10*time.Millisecond))
				}
			}
		}
	}
	wg.Wait()
	if d, ok := published["syn"]; !ok || d > 5*time.Second {
		t.Errorf("the 30 kpps SYN flood: published %v after its onset (ok %v), want within seconds", d, ok)
	}
	if d, ok := published["dns"]; !ok || d < 60*time.Second {
		t.Errorf("the 60 Mbit/s DNS amplification: published %v after its onset (ok %v), want after the rules' minute", d, ok)
	}
	if _, ok := published["web"]; ok {
		t.Error("the keep-alive web load was published")
	}
	_, attacks := call(t, "GET", s.url+"/api/v1/attacks?limit=50", key, "")
	for _, a := range attacks["data"].([]any) {
		at := a.(map[string]any)
		t.Logf("attack: %s (%s, %s)", at["title"], at["classification"], at["severity"])
		if at["node_id"] == nodes["web"] {
			t.Errorf("the web load raised %v", at)
		}
	}
	for name, l := range logs {
		if t.Failed() {
			t.Logf("agent %s:\n%s", name, l)
		}
	}
}
