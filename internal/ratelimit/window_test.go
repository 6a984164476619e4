package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	l := New(2, time.Minute)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Second, true},
		{"a", 2 * time.Second, false},
		{"b", 2 * time.Second, true},
		{"a", 59 * time.Second, false},
		{"a", time.Minute, true},
	}
	for i, s := range steps {
		if got := l.Allow(s.key, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %v): Allow = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}

func TestClientsAddr(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c := Clients{Trusted: trusted}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"direct client", "198.51.100.7:5000", "", "198.51.100.7"},
		{"direct client forging the header", "198.51.100.7:5000", "1.2.3.4", "198.51.100.7"},
		{"behind the balancer", "10.0.0.2:5000", "203.0.113.9", "203.0.113.9"},
		{"forged hop before the real one", "10.0.0.2:5000", "1.2.3.4, 203.0.113.9", "203.0.113.9"},
		{"two trusted proxies", "10.0.0.2:5000", "203.0.113.9, 192.0.2.1", "203.0.113.9"},
		{"malformed chain", "10.0.0.2:5000", "203.0.113.9, nonsense", "10.0.0.2"},
		{"balancer without header", "10.0.0.2:5000", "", "10.0.0.2"},
		{"ipv6 client", "10.0.0.2:5000", "2001:db8::1", "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := c.Addr(r); got != tt.want {
			t.Errorf("%s: Addr = %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := (Clients{}).Addr(func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.2:1"
		r.Header.Set("X-Forwarded-For", "1.2.3.4")
		return r
	}()); got != "10.0.0.2" {
		t.Errorf("no trusted proxies: Addr = %s", got)
	}
	if _, err := ParseTrusted("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}
