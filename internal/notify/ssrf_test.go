package notify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
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
		{"https://evil.example.com/x", false}, // one private answer is enough to refuse
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
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if q.Type == dnsmessage.TypeA {
				_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
					dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", addr)
	}}
}

// TestHostnameResolvingToLoopback asks a real DNS server (on loopback) for
// a name that resolves to 127.0.0.1: the webhook is refused.
func TestHostnameResolvingToLoopback(t *testing.T) {
	g := &Guard{Resolver: startDNS(t)}
	if err := g.CheckURL(context.Background(), "https://rebind.example.net/hook"); err == nil {
		t.Fatal("a name resolving to 127.0.0.1 was accepted")
	}
}
