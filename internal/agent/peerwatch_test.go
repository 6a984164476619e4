package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestPeerWatchReportsTransitionsOnly: a session starting up is no
// failure; up, then down, are reported once each; a peer that never
// comes up is reported after the grace period.
func TestPeerWatchReportsTransitionsOnly(t *testing.T) {
	var mu sync.Mutex
	var got []MitigationReport
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rep MitigationReport
		_ = json.NewDecoder(r.Body).Decode(&rep)
		mu.Lock()
		got = append(got, rep)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ctx := context.Background()
	w := NewPeerWatch(ctx, NewClient(srv.URL, "swn_x"), slog.New(slog.DiscardHandler), []string{"192.0.2.1", "192.0.2.2"}, 200*time.Millisecond)
	for _, st := range []struct {
		up     bool
		detail string
	}{{false, "ACTIVE"}, {false, "OPENSENT"}, {true, "ESTABLISHED"}, {true, "ESTABLISHED"}, {false, "IDLE"}, {false, "ACTIVE"}} {
		w.Observe(ctx, "192.0.2.1", st.up, st.detail)
	}
	time.Sleep(400 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"peer_up 192.0.2.1", "peer_down 192.0.2.1", "peer_down 192.0.2.2"}
	if len(got) != len(want) {
		t.Fatalf("reports %+v, want %v", got, want)
	}
	for i, r := range got {
		if r.Action+" "+r.Peer != want[i] {
			t.Errorf("report %d: %s %s, want %s", i, r.Action, r.Peer, want[i])
		}
	}
}
