package probe_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/probe"
	"github.com/stormwatch/stormwatch/internal/probe/probetest"
)

func check(typ, target string, set func(*sw.Check)) *sw.Check {
	c := &sw.Check{ID: "chk_test", Name: "t", Type: typ, Target: target, Timeout: sw.Duration(500 * time.Millisecond),
		Interval: sw.Duration(5 * time.Second)}
	if set != nil {
		set(c)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

func TestHTTP(t *testing.T) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("all systems go"))
	}))
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	trusted := &probe.Prober{RootCAs: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	plain := &probe.Prober{}
	tests := []struct {
		name    string
		p       *probe.Prober
		c       *sw.Check
		fail    bool
		ok      bool
		err     string
		warning string
	}{
		{"answers", plain, check("http", srv.URL, nil), false, true, "", ""},
		{"body matches", plain, check("http", srv.URL, func(c *sw.Check) { c.BodyMatch = "systems go" }), false, true, "", ""},
		{"body does not match", plain, check("http", srv.URL, func(c *sw.Check) { c.BodyMatch = "on fire" }), false, false, `does not contain "on fire"`, ""},
		{"server error", plain, check("http", srv.URL, nil), true, false, "HTTP 503, expected 200-399", ""},
		{"expected error status", plain, check("http", srv.URL, func(c *sw.Check) { c.ExpectStatus = "503" }), true, true, "", ""},
		{"untrusted certificate", plain, check("http", tlsSrv.URL, nil), false, false, "TLS certificate not valid", ""},
		{"certificate near expiry", trusted, check("http", tlsSrv.URL, func(c *sw.Check) { c.CertExpiry = sw.Duration(200 * 365 * 24 * time.Hour) }),
			false, true, "", "TLS certificate expires in"},
		{"nothing listens", plain, check("http", "http://"+closedPort(t), nil), false, false, "connection refused", ""},
		{"refused address", &probe.Prober{Allow: func(a netip.Addr) error { return os.ErrPermission }}, check("http", srv.URL, nil), false, false, "permission denied", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing.Store(tt.fail)
			o := tt.p.Run(context.Background(), tt.c)
			if o.OK != tt.ok || !strings.Contains(o.Err, tt.err) || !strings.Contains(o.Warning, tt.warning) || (tt.warning == "" && o.Warning != "") {
				t.Fatalf("outcome = %+v, want ok %v, error with %q, warning with %q", o, tt.ok, tt.err, tt.warning)
			}
		})
	}
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := &probe.Prober{}
	c := check("tcp", ln.Addr().String(), nil)
	if o := p.Run(context.Background(), c); !o.OK {
		t.Fatalf("listening port: %+v", o)
	}
	ln.Close()
	if o := p.Run(context.Background(), c); o.OK || o.Err != "connection refused" {
		t.Fatalf("closed port: %+v", o)
	}
}

func TestDNS(t *testing.T) {
	server := probetest.NewDNS(t, map[string]string{"game.example.test": "192.0.2.10"}).Addr
	p := &probe.Prober{}
	tests := []struct {
		name, target, expect string
		ok                   bool
		err                  string
	}{
		{"resolves", "game.example.test", "", true, ""},
		{"expected answer", "game.example.test", "192.0.2.10", true, ""},
		{"other answer", "game.example.test", "192.0.2.11", false, "answered 192.0.2.10, expected 192.0.2.11"},
		{"no such name", "gone.example.test", "", false, "answered NameError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := p.Run(context.Background(), check("dns", tt.target, func(c *sw.Check) { c.Server, c.Expect = server, tt.expect }))
			if o.OK != tt.ok || !strings.Contains(o.Err, tt.err) {
				t.Fatalf("outcome = %+v, want ok %v and error with %q", o, tt.ok, tt.err)
			}
		})
	}
	if o := p.Run(context.Background(), check("dns", "game.example.test", func(c *sw.Check) { c.Server = closedUDP(t) })); o.OK {
		t.Fatalf("a silent DNS server passed: %+v", o)
	}
}

func closedUDP(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String() // bound, never answers
}

func TestUDP(t *testing.T) {
	game, silent := probetest.GameServer(t), closedUDP(t)
	p := &probe.Prober{}
	tests := []struct {
		name, target, payload, expect string
		ok                            bool
	}{
		{"a2s answered", game, "a2s", "", true},
		{"minecraft answered", game, "minecraft", "", true},
		{"expected prefix", game, "a2s", "ffffffff49", true},
		{"other prefix", game, "a2s", "ffffffff41", false},
		{"no answer", silent, "a2s", "", false},
		{"raw payload unanswered", game, "hex:deadbeef", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := p.Run(context.Background(), check("udp", tt.target, func(c *sw.Check) { c.Payload, c.Expect = tt.payload, tt.expect }))
			if o.OK != tt.ok {
				t.Fatalf("outcome = %+v, want ok %v", o, tt.ok)
			}
		})
	}
}

func TestICMP(t *testing.T) {
	o := (&probe.Prober{}).Run(context.Background(), check("icmp", "127.0.0.1", nil))
	if !o.OK && strings.Contains(o.Err, "ping_group_range") {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ICMP checks cannot run in CI: %s", o.Err)
		}
		t.Skip(o.Err)
	}
	if !o.OK {
		t.Fatalf("ping 127.0.0.1: %+v", o)
	}
}

func TestRunnerStates(t *testing.T) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	changes := make(chan sw.CheckResult, 10)
	r := probe.NewRunner(&probe.Prober{}, func(res sw.CheckResult) { changes <- res })
	defer r.Stop()
	c := *check("http", srv.URL, func(c *sw.Check) { c.Interval, c.Failures = sw.Duration(5*time.Second), 2 })
	c.Interval = sw.Duration(100 * time.Millisecond) // below the API's minimum, for speed
	r.Set(context.Background(), []sw.Check{c})
	next := func() sw.CheckResult {
		t.Helper()
		select {
		case res := <-changes:
			return res
		case <-time.After(5 * time.Second):
			t.Fatal("no change of state")
		}
		return sw.CheckResult{}
	}
	if res := next(); !res.Up {
		t.Fatalf("first state = %+v, want up", res)
	}
	failing.Store(true)
	start := time.Now()
	if res := next(); res.Up || res.Error == "" {
		t.Fatalf("after failures = %+v, want down with the error", res)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("down after one failure; want two")
	}
	failing.Store(false)
	if res := next(); !res.Up {
		t.Fatalf("after a success = %+v, want up", res)
	}
	sum := r.Drain()
	if len(sum) != 1 || sum[0].Runs < 4 || sum[0].Fails < 2 {
		t.Fatalf("drained = %+v", sum)
	}
}
