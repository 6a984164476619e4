// Package ratelimit counts events per key in fixed windows, in memory: the
// public subscription form and dashboard sign-in use it against floods
// from one client address.
package ratelimit

import (
	"net"
	"net/http"
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

// ClientIP is the address a request came from, the key of per-client
// limits. It is the socket's peer: behind a proxy, all clients share it.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
