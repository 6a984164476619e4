package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/proctest"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// fnmDetails is what FastNetMon writes on its notify script's stdin for a
// ban, in its text format.
const fnmDetails = `IP: 203.0.113.7
Attack type: syn_flood
Initial attack power: 250000 packets per second
Peak attack power: 250000 packets per second
Attack direction: incoming
Attack protocol: tcp
Total incoming traffic: 120 mbps
Total outgoing traffic: 0 mbps
Total incoming pps: 250000 packets per second
Total outgoing pps: 0 packets per second
`

// fnmJSON is its attack details in the JSON format.
const fnmJSON = `{"ip":"203.0.113.7","action":"attack_details","attack_details":{"attack_uuid":"","attack_type":"syn_flood",
"attack_protocol":"tcp","attack_direction":"incoming","attack_severity":"high","total_incoming_pps":310000,"total_incoming_traffic":18750000}}`

// TestFastNetMonNotifyScript runs deploy/fastnetmon-notify.sh as
// FastNetMon does (arguments, details on stdin) against a real server:
// the ban publishes an incident, attack_details updates the attack, the
// unban ends it and the incident resolves.
func TestFastNetMonNotifyScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is missing")
	}
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--resolve-after", "1s")...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"EU game 01","slug":"eu-game-01"}`)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"fastnetmon-1","components":["eu-game-01"]}`)
	script, _ := filepath.Abs("../../deploy/fastnetmon-notify.sh")
	notify := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = append(cleanEnv(), "STORMWATCH_URL="+s.url, "STORMWATCH_TOKEN="+node["token"].(string))
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("notify script %v: %v %s", args, err, out)
		}
	}
	attack := func() map[string]any {
		_, list := call(t, "GET", s.url+"/api/v1/attacks", key, "")
		data := list["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("%d attacks, want 1: %v", len(data), list)
		}
		return data[0].(map[string]any)
	}
	incident := func() map[string]any {
		_, list := call(t, "GET", s.url+"/api/v1/incidents", key, "")
		if data := list["data"].([]any); len(data) == 1 {
			return data[0].(map[string]any)
		}
		return nil
	}
	notify(fnmDetails, "203.0.113.7", "incoming", "250000", "ban")
	if a := attack(); a["classification"] != "syn_flood" || a["severity"] != "high" || a["phase"] != "detected" || a["peak_bps"] != float64(120e6) {
		t.Fatalf("after the ban: %v", a)
	}
	if inc := incident(); inc == nil || inc["status"] != "investigating" || inc["visibility"] != "public" {
		t.Fatalf("after the ban, incident %v", inc)
	}
	notify(fnmJSON, "203.0.113.7", "incoming", "310000", "attack_details")
	if a := attack(); a["peak_pps"] != float64(310000) || a["peak_bps"] != float64(150e6) {
		t.Fatalf("after attack_details: %v", a)
	}
	notify("", "203.0.113.7", "incoming", "0", "unban")
	if a := attack(); a["phase"] != "ended" {
		t.Fatalf("after the unban: %v", a)
	}
	for deadline := time.Now().Add(15 * time.Second); incident()["status"] != "resolved"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never resolved: %v", incident())
		}
	}
	// An outgoing attack (a customer attacking others) and a second unban
	// change nothing.
	notify(fnmDetails, "203.0.113.9", "outgoing", "1000", "ban")
	notify("", "203.0.113.7", "incoming", "0", "unban")
	attack()
}

// TestGenericInbound posts the documented generic format: steps go
// through the rules, a repeat is a duplicate, a bad step names its field.
func TestGenericInbound(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, db...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"API","slug":"api"}`)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"wanguard","components":["web"]}`)
	token := node["token"].(string)
	step := `{"events":[{"id":"wg-1-start","attack_id":"wg-1","type":"started","target":"203.0.113.0/24","severity":"critical","classification":"udp_flood","pps":2000000,"components":["api"]}]}`
	for i, want := range []float64{1, 0} {
		code, out := call(t, "POST", s.url+"/api/v1/inbound/events", token, step)
		if code != 200 || out["accepted"] != want {
			t.Fatalf("post %d: %d %v", i, code, out)
		}
	}
	_, list := call(t, "GET", s.url+"/api/v1/incidents", key, "")
	inc := list["data"].([]any)[0].(map[string]any)
	comps := inc["components"].([]any)
	if len(comps) != 1 || comps[0].(map[string]any)["slug"] != "api" || inc["title"] != "DDoS attack affecting API" {
		t.Fatalf("incident = %v (the step names the api component, not the node's)", inc)
	}
	code, out := call(t, "POST", s.url+"/api/v1/inbound/events", token, `{"events":[{"id":"x","attack_id":"y","type":"began","target":"203.0.113.1"}]}`)
	if code != 422 || !strings.Contains(out["error"].(map[string]any)["field"].(string), "events[0].type") {
		t.Fatalf("bad type: %d %v", code, out)
	}
}

// alertmanagerBinary builds (once, cached) the Alertmanager pinned in
// go.mod's tool block and returns its path.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", "alertmanager").Output()
	if err != nil {
		storetest.RequireReal(t, "alertmanager (go tool alertmanager, pinned in go.mod): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestAlertmanagerDrivesThePage runs the real Alertmanager with a route
// whose webhook receiver is stormwatch (the node token as its bearer
// credentials), fires an alert through Alertmanager's API and resolves
// it: the page shows the incident, then clears it.
func TestAlertmanagerDrivesThePage(t *testing.T) {
	am := alertmanagerBinary(t)
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--resolve-after", "1s")...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"EU game 01","slug":"eu-game-01"}`)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Website","slug":"web"}`)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"prometheus","components":["web"]}`)

	dir := t.TempDir()
	amAddr := freeAddr(t)
	config := fmt.Sprintf(`route:
  receiver: stormwatch
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: stormwatch
    webhook_configs:
      - url: %s/api/v1/inbound/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`, s.url, node["token"].(string))
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(am, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+dir, "--web.listen-address="+amAddr,
		"--cluster.listen-address=", "--log.level=debug")
	logs := proctest.Start(t, "alertmanager", cmd)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get("http://" + amAddr + "/-/ready"); err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not start:\n%s", logs)
		}
	}
	startsAt := time.Now().UTC().Add(-time.Second)
	post := func(endsAt time.Time) {
		t.Helper()
		body := fmt.Sprintf(`[{"labels":{"alertname":"GameServerDown","component":"eu-game-01","severity":"critical"},
			"annotations":{"summary":"eu-game-01 answers no queries"},"startsAt":%q,"endsAt":%q}]`,
			startsAt.Format(time.RFC3339Nano), endsAt.UTC().Format(time.RFC3339Nano))
		res, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("post alert: %v %v", err, res)
		}
		res.Body.Close()
	}
	summary := func() (string, []any) {
		_, sum := call(t, "GET", s.url+"/s/acme/api/v2/summary.json", "", "")
		comps := map[string]string{}
		for _, c := range sum["components"].([]any) {
			comps[c.(map[string]any)["name"].(string)] = c.(map[string]any)["status"].(string)
		}
		return comps["EU game 01"], sum["incidents"].([]any)
	}
	post(time.Now().Add(time.Hour))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, incs := summary()
		if len(incs) == 1 {
			if status != "major_outage" || incs[0].(map[string]any)["name"] != "Problems affecting EU game 01" {
				t.Fatalf("the page shows %s and %v", status, incs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the firing alert never reached the page\n%s", s.stderr)
		}
	}
	post(time.Now().Add(-100 * time.Millisecond)) // resolved
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if status, incs := summary(); len(incs) == 0 && status == "operational" {
			break
		}
		if time.Now().After(deadline) {
			st, incs := summary()
			t.Fatalf("the resolved alert never cleared the page: %s %v", st, incs)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
