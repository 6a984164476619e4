// Package live tells every part of a replica when a workspace's public page
// changed: the page cache renders anew, and open pages (SSE) refresh. It
// learns of changes from this replica's commits at once, and from a cheap
// poll of the revisions (the fallback when another replica's notification
// was missed).
package live

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Hub tracks the newest known page revision of each workspace and fans
// changes out to subscribers. It is safe for concurrent use.
type Hub struct {
	mu   sync.RWMutex
	revs map[string]int64
	subs map[string]map[chan int64]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{revs: map[string]int64{}, subs: map[string]map[chan int64]struct{}{}}
}

// Publish records that workspace ws is at revision rev. Older or equal
// revisions are ignored, so the order of commits and polls does not matter.
func (h *Hub) Publish(ws string, rev int64) {
	h.mu.Lock()
	if rev <= h.revs[ws] {
		h.mu.Unlock()
		return
	}
	h.revs[ws] = rev
	subs := make([]chan int64, 0, len(h.subs[ws]))
	for ch := range h.subs[ws] {
		subs = append(subs, ch)
	}
	h.mu.Unlock()
	for _, ch := range subs {
		// Each channel holds the latest revision only: a slow reader
		// skips intermediate revisions instead of blocking publishers.
		select {
		case ch <- rev:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- rev:
			default:
			}
		}
	}
}

// Revision returns the newest known revision of ws, and whether any is
// known yet.
func (h *Hub) Revision(ws string) (int64, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	rev, ok := h.revs[ws]
	return rev, ok
}

// Subscribe returns a channel that receives ws's newer revisions, and the
// function that ends the subscription.
func (h *Hub) Subscribe(ws string) (<-chan int64, func()) {
	ch := make(chan int64, 1)
	h.mu.Lock()
	if h.subs[ws] == nil {
		h.subs[ws] = map[chan int64]struct{}{}
	}
	h.subs[ws][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[ws], ch)
		if len(h.subs[ws]) == 0 {
			delete(h.subs, ws)
		}
		h.mu.Unlock()
	}
}

// Subscribers counts open subscriptions, for metrics.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, s := range h.subs {
		n += len(s)
	}
	return n
}

// Poll publishes the revisions fetch returns every interval until ctx ends.
func (h *Hub) Poll(ctx context.Context, interval time.Duration, fetch func(context.Context) (map[string]int64, error), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		revs, err := fetch(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("poll page revisions", "err", err)
			}
			continue
		}
		for ws, rev := range revs {
			h.Publish(ws, rev)
		}
	}
}
