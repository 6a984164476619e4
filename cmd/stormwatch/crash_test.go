package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestKillDuringFanOut kills the server (SIGKILL) while it delivers one
// incident to 5,000 webhook subscribers, restarts it, and checks that
// every subscriber got the message, and that any repeat carried the same
// webhook-id (at-least-once with a stable delivery id).
func TestKillDuringFanOut(t *testing.T) {
	const subscribers = 5000
	var mu sync.Mutex
	ids := map[string][]string{} // path -> webhook-ids received
	total := 0
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a receiver with some work to do
		mu.Lock()
		ids[r.URL.Path] = append(ids[r.URL.Path], r.Header.Get("webhook-id"))
		total++
		mu.Unlock()
	}))
	defer rc.Close()
	received := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(ids), total
	}

	db := []string{"--data-dir", t.TempDir()}
	key, stderr, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme Games"}, db...)...)
	if code != 0 {
		t.Fatalf("workspace create: %s", stderr)
	}
	key = strings.TrimSpace(key)
	args := append(db, "--allow-private-webhooks", "--webhook-timeout", "1s")
	s := startServe(t, args...)
	if code, body := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Edge","slug":"edge"}`); code != 201 {
		t.Fatalf("component: %d %v", code, body)
	}
	var csv strings.Builder
	csv.WriteString("type,url,components\n")
	for i := range subscribers {
		fmt.Fprintf(&csv, "webhook,%s/hook/%d,edge\n", rc.URL, i)
	}
	req, _ := http.NewRequest("POST", s.url+"/api/v1/subscribers/import", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("import: %d", res.StatusCode)
	}
	if code, _ := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"DDoS attack detected on US-East cluster","components":{"edge":"major_outage"}}`); code != 201 {
		t.Fatal(code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for n, _ := received(); n < subscribers/5; n, _ = received() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries before the kill", n)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	atKill, _ := received()
	if atKill >= subscribers {
		t.Fatalf("fan-out finished before the kill (%d); the test proves nothing", atKill)
	}

	startServe(t, args...)
	deadline = time.Now().Add(60 * time.Second)
	for n, _ := received(); n < subscribers; n, _ = received() {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart only %d of %d subscribers got the message", n, subscribers)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	repeats := 0
	for path, got := range ids {
		for _, id := range got[1:] {
			repeats++
			if id != got[0] {
				t.Errorf("%s got webhook-ids %v: a repeat must carry the first one's id", path, got)
			}
		}
	}
	t.Logf("killed after %d of %d deliveries; after restart all %d delivered, %d repeats (same ids)", atKill, subscribers, len(ids), repeats)
}
