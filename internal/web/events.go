package web

import (
	"fmt"
	"net/http"
	"time"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 25 * time.Second

// events streams Server-Sent Events: one "revision" message at once, then
// one on every change of the workspace's page. Browsers reconnect on their
// own; the stream ends when the client leaves or the server shuts down.
func (p *public) events(w http.ResponseWriter, r *http.Request, ws string) {
	client := p.clients.Addr(r)
	if ok, clientCap := p.streamLimit.acquire(client); !ok {
		// Quick and final: EventSource gives up on an error answer, and
		// the page keeps working without live updates.
		w.Header().Set("Retry-After", "60")
		w.Header().Set("Cache-Control", "no-store")
		if clientCap {
			http.Error(w, "too many live-update streams from your address; the page works without them", http.StatusTooManyRequests)
		} else {
			http.Error(w, "too many live-update streams open; the page works without them", http.StatusServiceUnavailable)
		}
		return
	}
	defer p.streamLimit.release(client)
	rev, err := p.cache.revision(r.Context(), ws)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	changes, cancel := p.hub.Subscribe(ws)
	defer cancel()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\nevent: revision\ndata: {\"revision\":%d}\n\n", rev) {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.streams.Done():
			return
		case rev := <-changes:
			if !send("event: revision\ndata: {\"revision\":%d}\n\n", rev) {
				return
			}
		case <-tick.C:
			if !send(": keep-alive\n\n") {
				return
			}
		}
	}
}
