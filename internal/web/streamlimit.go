package web

import (
	"sync"
	"syscall"
)

// streamLimit caps live-update streams in all and per client address:
// each holds a connection (a file descriptor) for as long as the page is
// open, so without a cap one client opening thousands starves the
// database and the dashboard of descriptors. The page works without its
// stream, so a refused one costs a visitor nothing but live refresh.
type streamLimit struct {
	mu        sync.Mutex
	total     int
	max       int
	perClient int
	clients   map[string]int
}

func newStreamLimit(max, perClient int) *streamLimit {
	return &streamLimit{max: max, perClient: perClient, clients: map[string]int{}}
}

// acquire takes a stream for client; ok false names which cap was hit.
func (l *streamLimit) acquire(client string) (ok, clientCap bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.clients[client] >= l.perClient:
		return false, true
	case l.total >= l.max:
		return false, false
	}
	l.clients[client]++
	l.total++
	return true, false
}

func (l *streamLimit) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
}

// streamReserve is how many descriptors stay for everything but streams.
const streamReserve = 1024

// DefaultMaxStreams is half of the process's open-file limit less the
// reserve, and at least 64.
func DefaultMaxStreams() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 4096
	}
	return max(64, (int(min(lim.Cur, 1<<30))-streamReserve)/2)
}
