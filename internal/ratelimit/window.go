// Package ratelimit counts events per key in fixed windows, in memory: the
// public subscription form and dashboard sign-in use it against floods
// from one client address.
package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxKeys bounds the memory a flood of distinct keys can take: past it,
// the counts start over.
const maxKeys = 100_000

// Window allows n events per window per key.
type Window struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	seen   map[string]*bucket
}

type bucket struct {
	start time.Time
	count int
}

// New returns a limit of n events per window and key.
func New(n int, window time.Duration) *Window {
	return &Window{n: n, window: window, seen: map[string]*bucket{}}
}

// Allow counts an event for key at now and reports whether it is within
// the limit.
func (l *Window) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.seen[key]
	if !ok || now.Sub(b.start) >= l.window {
		if len(l.seen) >= maxKeys {
			clear(l.seen)
		}
		b = &bucket{start: now}
		l.seen[key] = b
	}
	b.count++
	return b.count <= l.n
}

// Clients tells who sent a request, the key of per-client limits.
// Without trusted proxies it is the socket's peer; when the peer is a
// trusted proxy (a load balancer in front), it is the nearest address in
// X-Forwarded-For that is not one, read from the right so that a client
// cannot choose its own address by sending the header itself.
type Clients struct {
	Trusted []netip.Prefix
}

// Addr returns the client address of r.
func (c Clients) Addr(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if !c.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			return peer // a malformed chain: trust nothing in it
		}
		if !c.trusted(hop) {
			return hop
		}
	}
	return peer
}

func (c Clients) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrusted reads a comma-separated list of CIDRs or addresses.
func ParseTrusted(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
