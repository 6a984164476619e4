package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// balancer is a load balancer as operators run in front of replicas
// (nginx, HAProxy, a cloud LB): it sends requests round-robin to the
// replicas whose /readyz answers 200, checked every 100 ms, and passes an
// idempotent request that could not connect on to the next replica.
type balancer struct {
	*httptest.Server
	mu      sync.Mutex
	urls    []string
	healthy []bool
	next    int
	tr      *http.Transport
}

func newBalancer(t *testing.T, servers []*server) *balancer {
	b := &balancer{tr: &http.Transport{MaxIdleConnsPerHost: 16}}
	for _, s := range servers {
		b.urls = append(b.urls, s.url)
		b.healthy = append(b.healthy, true)
	}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				b.check()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; b.Close(); b.tr.CloseIdleConnections() })
	return b
}

func (b *balancer) check() {
	b.mu.Lock()
	urls := append([]string{}, b.urls...)
	b.mu.Unlock()
	c := &http.Client{Timeout: time.Second}
	for i, u := range urls {
		res, err := c.Get(u + "/readyz")
		up := err == nil && res.StatusCode == 200
		if err == nil {
			res.Body.Close()
		}
		b.mu.Lock()
		if b.urls[i] == u {
			b.healthy[i] = up
		}
		b.mu.Unlock()
	}
}

// replace points slot i at a restarted replica, unhealthy until checked.
func (b *balancer) replace(i int, s *server) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls[i], b.healthy[i] = s.url, false
}

func (b *balancer) pick() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.urls {
		i := b.next % len(b.urls)
		b.next++
		if b.healthy[i] {
			return b.urls[i], true
		}
	}
	return "", false
}

func (b *balancer) serve(w http.ResponseWriter, r *http.Request) {
	var lastErr error
	for range 3 {
		u, ok := b.pick()
		if !ok {
			break
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		res, err := b.tr.RoundTrip(req)
		if err != nil {
			lastErr = err
			continue // nothing reached the replica: another may answer
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
		res.Body.Close()
		return
	}
	msg := "no replica available"
	if lastErr != nil {
		msg += ": " + lastErr.Error()
	}
	http.Error(w, strings.TrimSpace(msg), http.StatusBadGateway)
}
