// Package probetest runs real servers on loopback for check tests: a DNS
// server whose answers a test can change, and a game server answering
// Source (A2S_INFO) and Minecraft Bedrock (RakNet ping) queries.
package probetest

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is an authoritative DNS server on loopback UDP.
type DNS struct {
	Addr string // host:port
	mu   sync.Mutex
	a    map[string]netip.Addr // fqdn -> A record
}

// NewDNS starts a DNS server answering A queries from records (names
// with or without the final dot); other names get NXDOMAIN.
func NewDNS(t testing.TB, records map[string]string) *DNS {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	d := &DNS{Addr: pc.LocalAddr().String(), a: map[string]netip.Addr{}}
	for name, addr := range records {
		d.Set(name, addr)
	}
	go d.serve(pc)
	return d
}

// Resolver is a Go resolver that asks this server.
func (d *DNS) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", d.Addr)
	}}
}

// Set makes name answer addr from now on ("" removes it; "*" answers
// every name without a record of its own).
func (d *DNS) Set(name, addr string) {
	if name[len(name)-1] != '.' {
		name += "."
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if addr == "" {
		delete(d.a, name)
		return
	}
	d.a[name] = netip.MustParseAddr(addr)
}

func (d *DNS) serve(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var q dnsmessage.Message
		if q.Unpack(buf[:n]) != nil || len(q.Questions) != 1 {
			continue
		}
		r := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true}, Questions: q.Questions}
		d.mu.Lock()
		addr, ok := d.a[q.Questions[0].Name.String()]
		if !ok {
			addr, ok = d.a["*."]
		}
		d.mu.Unlock()
		switch {
		case ok && q.Questions[0].Type == dnsmessage.TypeA:
			r.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeA,
				Class: dnsmessage.ClassINET, TTL: 60}, Body: &dnsmessage.AResource{A: addr.As4()}}}
		case !ok:
			r.RCode = dnsmessage.RCodeNameError
		}
		out, _ := r.Pack()
		_, _ = pc.WriteTo(out, from)
	}
}

// GameServer starts a UDP server on loopback that answers A2S_INFO with
// an info reply and RakNet unconnected pings with a pong, and returns its
// address.
func GameServer(t testing.TB) string {
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
			switch {
			case n > 5 && string(buf[4:n]) == "TSource Engine Query\x00":
				_, _ = pc.WriteTo(append([]byte("\xff\xff\xff\xffI\x11"), "de_dust2\x00"...), from)
			case n > 0 && buf[0] == 0x01:
				_, _ = pc.WriteTo(append([]byte{0x1c}, "MCPE;Test;"...), from)
			}
		}
	}()
	return pc.LocalAddr().String()
}
