package notify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/probe/probetest"
)

// fakeDNS is a resolver with fixed answers (a test double of name
// resolution, not of a protocol under test).
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	names, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, n := range names {
		out = append(out, netip.MustParseAddr(n))
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	dns := fakeDNS{"hooks.example.com": {"93.184.216.34"}, "evil.example.com": {"93.184.216.35", "127.0.0.1"},
		"metadata.example.com": {"169.254.169.254"}, "v6.example.com": {"2606:4700::1111"}, "ula.example.com": {"fd00::1"}}
	g := &Guard{Resolver: dns}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/x", true},
		{"https://v6.example.com/x", true},
		{"https://unknown.example.org/x", true}, // checked again at delivery
		{"http://127.0.0.1:8080/x", false},
		{"http://localhost/x", false},
		{"http://app.localhost/x", false},
		{"http://10.1.2.3/x", false},
		{"http://172.16.0.1/x", false},
		{"http://192.168.1.1/x", false},
		{"http://100.64.0.1/x", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://0.0.0.0/x", false},
		{"http://224.0.0.1/x", false},
		{"http://[::1]/x", false},
		{"http://[fe80::1]/x", false},
		{"http://[fd00::1]/x", false},
		{"http://[ff02::1]/x", false},
		{"http://[::ffff:10.0.0.1]/x", false},
		{"http://[64:ff9b::7f00:1]/x", false},      // NAT64 of 127.0.0.1
		{"http://[64:ff9b::a00:1]/x", false},       // NAT64 of 10.0.0.1
		{"http://[2002:7f00:1::]/x", false},        // 6to4 of 127.0.0.1
		{"http://[::127.0.0.1]/x", false},          // IPv4-compatible
		{"http://[::ffff:0:7f00:1]/x", false},      // SIIT
		{"http://[64:ff9b::5db8:d822]/x", true},    // NAT64 of a public address
		{"http://2130706433/x", false},             // decimal 127.0.0.1
		{"http://0x7f000001/x", false},             // hex
		{"http://0177.0.0.1/x", false},             // octal
		{"http://127.1/x", false},                  // short form
		{"http://10.1/x", false},                   // short form
		{"https://hooks.example.com.123/x", false}, // numeric last label
		{"https://evil.example.com/x", false},      // one private answer is enough to refuse
		{"https://metadata.example.com/x", false},
		{"https://ula.example.com/x", false},
		{"ftp://hooks.example.com/x", false},
		{"https://user:pw@hooks.example.com/x", false},
		{"/relative", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := g.CheckURL(context.Background(), tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
	allow := &Guard{AllowPrivate: true, Resolver: dns}
	if err := allow.CheckURL(context.Background(), "http://127.0.0.1:8080/x"); err != nil {
		t.Fatalf("private allowed: %v", err)
	}
}

// startDNS runs a real DNS server on loopback that answers every A query
// with 127.0.0.1, and returns a resolver that asks it.
func startDNS(t *testing.T) *net.Resolver {
	t.Helper()
	return probetest.NewDNS(t, map[string]string{"*": "127.0.0.1"}).Resolver()
}

// TestHostnameResolvingToLoopback asks a real DNS server (on loopback) for
// a name that resolves to 127.0.0.1: the webhook is refused.
func TestHostnameResolvingToLoopback(t *testing.T) {
	g := &Guard{Resolver: startDNS(t)}
	if err := g.CheckURL(context.Background(), "https://rebind.example.net/hook"); err == nil {
		t.Fatal("a name resolving to 127.0.0.1 was accepted")
	}
}

// TestDialRefusesEmbeddedLoopback: a URL stored before these checks (or
// written straight to the database) is still refused at the moment of
// the dial, and the receiver listening on loopback never hears of it.
func TestDialRefusesEmbeddedLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reached := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := NewWebhookSender(&Guard{}, 2*time.Second)
	for _, host := range []string{"[::ffff:127.0.0.1]", "[::ffff:0:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
		"2130706433", "0x7f000001", "0177.0.0.1", "127.1"} {
		res := s.Send(context.Background(), "http://"+host+":"+port+"/hook", "msg_1", "whsec_"+strings.Repeat("A", 32), time.Now(), []byte("{}"))
		if res.Err == nil || !res.Permanent {
			t.Errorf("%s: %+v, want a permanent refusal", host, res)
		}
	}
	select {
	case <-reached:
		t.Fatal("the loopback receiver was reached")
	default:
	}
}
