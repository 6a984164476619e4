package main

import (
	"net/http"
	"testing"
	"time"
)

// TestEventStreamsAreCapped opens far more live-update streams than the
// caps allow against the real server, as one client and as several behind
// a trusted proxy: the excess is answered at once (429 per client, 503 in
// all), the held streams stay open, and the server keeps answering
// health checks, pages and admin writes.
func TestEventStreamsAreCapped(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--max-event-streams", "40", "--trusted-proxies", "127.0.0.0/8")...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}, Timeout: 5 * time.Second}
	open := func(from string) int {
		req, _ := http.NewRequest("GET", s.url+"/s/acme/events", nil)
		if from != "" {
			req.Header.Set("X-Forwarded-For", from)
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			res.Body.Close()
			if time.Since(start) > 2*time.Second {
				t.Errorf("a refused stream took %v to answer", time.Since(start))
			}
		} else {
			t.Cleanup(func() { res.Body.Close() })
		}
		return res.StatusCode
	}
	count := func(from string, n int) map[int]int {
		got := map[int]int{}
		for range n {
			got[open(from)]++
		}
		return got
	}
	// One client: the default cap of 32 per address.
	if got := count("", 100); got[200] != 32 || got[429] != 68 {
		t.Fatalf("one client opening 100 streams: %v, want 32 open and 68 refused with 429", got)
	}
	// Others behind the proxy: 8 more fit under the total of 40.
	if got := count("198.51.100.1", 20); got[200] != 8 || got[503] != 12 {
		t.Fatalf("a second client: %v, want 8 open and 12 refused with 503", got)
	}
	if code, _ := call(t, "GET", s.url+"/healthz", "", ""); code != 200 {
		t.Fatal("healthz")
	}
	if code, _ := call(t, "GET", s.url+"/s/acme/api/v2/status.json", "", ""); code != 200 {
		t.Fatal("page")
	}
	if code, _ := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`); code != 201 {
		t.Fatal("admin write")
	}
}
