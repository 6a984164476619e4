package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var leadingRE = regexp.MustCompile(`msg=leading job=automation`)

// hookLog is a webhook receiver that remembers every delivery's
// webhook-id by event and object.
type hookLog struct {
	mu  sync.Mutex
	ids map[string]map[string]int // "event object" -> webhook-id -> times received
	srv *httptest.Server
}

func newHookLog(t *testing.T) *hookLog {
	h := &hookLog{ids: map[string]map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Event       string `json:"event"`
			Incident    struct{ ID string }
			Maintenance struct{ ID string }
		}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		key := body.Event + " " + body.Incident.ID + body.Maintenance.ID
		h.mu.Lock()
		if h.ids[key] == nil {
			h.ids[key] = map[string]int{}
		}
		h.ids[key][r.Header.Get("webhook-id")]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// distinct is how many different notifications arrived for event on
// object (repeats of one, under its webhook-id, count once).
func (h *hookLog) distinct(event, object string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ids[event+" "+object])
}

// replicaOf reports which of servers logged leadership, waiting for one.
func replicaOf(t *testing.T, servers []*server, skip int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for i, s := range servers {
			if i != skip && leadingRE.MatchString(s.stderr.String()) {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no replica leads")
	return -1
}

// TestLeaderKilledMidIncident: three replicas on one PostgreSQL; the one
// that runs the timers is killed with SIGKILL while a maintenance window
// waits for its start and an incident is being told. Another replica
// takes over, each timer fires once, and every subscriber hears every
// step exactly once (a repeat under the same webhook-id at most).
func TestLeaderKilledMidIncident(t *testing.T) {
	db, key := acmeOnPostgres(t)
	flags := append(db, "--base-url", "http://127.0.0.1:0", "--allow-private-webhooks", "--webhook-timeout", "1s")
	servers := []*server{startServe(t, flags...), startServe(t, flags...), startServe(t, flags...)}
	hooks := newHookLog(t)
	api := func(i int, method, path, body string) map[string]any {
		t.Helper()
		code, out := call(t, method, servers[i].url+path, key, body)
		if code >= 300 {
			t.Fatalf("%s %s on replica %d: %d %v", method, path, i, code, out)
		}
		return out
	}
	leader := replicaOf(t, servers, -1)
	other := (leader + 1) % 3
	api(other, "POST", "/api/v1/components", `{"name":"Edge","slug":"edge"}`)
	for i := range 50 {
		api(other, "POST", "/api/v1/subscribers", fmt.Sprintf(`{"type":"webhook","url":%q}`, hooks.srv.URL+fmt.Sprintf("/%d", i)))
	}
	start := time.Now().UTC().Add(3 * time.Second).Truncate(time.Second)
	m := api(other, "POST", "/api/v1/maintenances", fmt.Sprintf(`{"title":"Network upgrade","starts_at":%q,"ends_at":%q,
		"components":["edge"],"remind_24h":false,"remind_1h":false}`, start.Format(time.RFC3339), start.Add(3*time.Second).Format(time.RFC3339)))
	inc := api(other, "POST", "/api/v1/incidents", `{"title":"DDoS attack detected","impact":"major","message":"Mitigating.","components":{"edge":"partial_outage"}}`)

	// The leader dies before the window starts, while the incident is
	// being told.
	if err := servers[leader].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	next := replicaOf(t, servers, leader)
	t.Logf("replica %d leads %v after replica %d was killed", next, time.Since(killed).Round(time.Millisecond), leader)

	survivor := (leader + 1) % 3
	api(survivor, "POST", "/api/v1/incidents/"+inc["id"].(string)+"/updates", `{"status":"monitoring","message":"Traffic is clean again."}`)
	api(survivor, "POST", "/api/v1/incidents/"+inc["id"].(string)+"/resolve", "")

	expect := []struct{ event, object string }{
		{"incident.created", inc["id"].(string)}, {"incident.updated", inc["id"].(string)}, {"incident.resolved", inc["id"].(string)},
		{"maintenance.scheduled", m["id"].(string)}, {"maintenance.started", m["id"].(string)}, {"maintenance.completed", m["id"].(string)},
	}
	deadline := time.Now().Add(40 * time.Second)
	for _, e := range expect {
		for hooks.distinct(e.event, e.object) < 50 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := hooks.distinct(e.event, e.object); n != 50 {
			t.Errorf("%s: %d of 50 subscribers told", e.event, n)
		}
	}
	// Each timer fired once: one start and one completion in the audit log.
	var audit struct {
		Data []struct {
			Action   string `json:"action"`
			TargetID string `json:"target_id"`
		} `json:"data"`
	}
	_, raw := call(t, "GET", servers[survivor].url+"/api/v1/audit-log?limit=200", key, "")
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &audit)
	steps := map[string]int{}
	for _, a := range audit.Data {
		if a.TargetID == m["id"] {
			steps[a.Action]++
		}
	}
	if steps["maintenance.started"] != 1 || steps["maintenance.completed"] != 1 {
		t.Errorf("maintenance steps in the audit log: %v", steps)
	}
	hooks.mu.Lock()
	repeats := 0
	for _, ids := range hooks.ids {
		for _, n := range ids {
			repeats += n - 1
		}
	}
	hooks.mu.Unlock()
	t.Logf("%d repeats under the same webhook-id", repeats)
}

// TestRollingRestartUnderLoad: three replicas behind a load balancer that
// follows /readyz; each is restarted in turn (SIGTERM, drain, start)
// while clients keep reading the page and summary.json: no request fails.
func TestRollingRestartUnderLoad(t *testing.T) {
	db, _ := acmeOnPostgres(t)
	flags := append(db, "--base-url", "http://127.0.0.1:0", "--drain-delay", "1s")
	servers := []*server{startServe(t, flags...), startServe(t, flags...), startServe(t, flags...)}
	lb := newBalancer(t, servers)

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var clients sync.WaitGroup
	for c := range 4 {
		clients.Go(func() {
			paths := []string{"/s/acme/", "/s/acme/api/v2/summary.json"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := http.Get(lb.URL + paths[(i+c)%2])
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		})
	}
	for i := range servers {
		time.Sleep(500 * time.Millisecond)
		if err := servers[i].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-servers[i].done:
			if err != nil {
				t.Fatalf("replica %d stopped with %v", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("replica %d did not stop", i)
		}
		servers[i] = startServe(t, flags...)
		lb.replace(i, servers[i])
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	clients.Wait()
	t.Logf("%d requests served, %d failed during three restarts", ok.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d requests failed, first: %v", failed.Load(), firstErr.Load())
	}
	if ok.Load() < 100 {
		t.Errorf("only %d requests made", ok.Load())
	}
}

// TestEveryReplicaSeesAChangeAtOnce: a change committed through one
// replica reaches another's event stream and its cached page well within
// a second (LISTEN/NOTIFY; the revision poll is only the fallback).
func TestEveryReplicaSeesAChangeAtOnce(t *testing.T) {
	db, key := acmeOnPostgres(t)
	flags := append(db, "--base-url", "http://127.0.0.1:0")
	a, b := startServe(t, flags...), startServe(t, flags...)
	if code, _ := get(t, b.url+"/s/acme/api/v2/summary.json"); code != 200 { // warms b's cache
		t.Fatalf("summary on b: %d", code)
	}
	res, err := http.Get(b.url + "/s/acme/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := make(chan string, 10)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			if n > 0 {
				events <- string(buf[:n])
			}
			if err != nil {
				close(events)
				return
			}
		}
	}()
	<-events // the stream's first message: the current revision
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if code, out := call(t, "POST", a.url+"/api/v1/incidents", key, `{"title":"DDoS attack detected","impact":"major","message":"Mitigating."}`); code != 201 {
		t.Fatalf("incident on a: %d %v", code, out)
	}
	select {
	case ev := <-events:
		if !strings.Contains(ev, "event: revision") {
			t.Errorf("stream on b sent %q", ev)
		}
		t.Logf("b's event stream heard of a's incident after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Fatal("b's event stream heard nothing")
	}
	if _, body := get(t, b.url+"/s/acme/api/v2/summary.json"); !strings.Contains(body, "DDoS attack detected") {
		t.Errorf("b's summary does not show a's incident yet:\n%s", body)
	}
}

// acmeOnPostgres makes workspace acme on a fresh PostgreSQL schema with
// the CLI and returns the database flags and the workspace's owner key.
func acmeOnPostgres(t *testing.T) ([]string, string) {
	t.Helper()
	return acmeOn(t, "--database-url", storetest.FreshSchema(t))
}

// acmeOn makes workspace acme in the database the flags name.
func acmeOn(t *testing.T, db ...string) ([]string, string) {
	t.Helper()
	key, stderr, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme Games"}, db...)...)
	if code != 0 {
		t.Fatalf("workspace create: %s", stderr)
	}
	return db, strings.TrimSpace(key)
}
