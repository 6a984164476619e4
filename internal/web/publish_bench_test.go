package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// BenchmarkAttackStartedToSummary measures, through real HTTP, the time
// from the server receiving an agent's attack.started to the incident
// being in summary.json (POST, then GET until it shows), against a plain
// GET of summary.json in the same run.
func BenchmarkAttackStartedToSummary(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			st := storetest.Open(b, d)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			hub := live.NewHub()
			st.OnCommit(func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) })
			auto := incident.New(incident.DefaultSettings(), log)
			h, err := New(Deps{Log: log, Store: st, API: api.New(st, log, api.WithAutomation(auto)), Registry: prometheus.NewRegistry(),
				Hub: hub, BaseURL: "http://127.0.0.1", PagesDomain: "localhost"})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			var ws, token string
			ctx := context.Background()
			err = st.Tx(ctx, func(tx *store.Tx) error {
				w := &sw.Workspace{Slug: "acme", Name: "Acme"}
				if err := tx.CreateWorkspace(ctx, w); err != nil {
					return err
				}
				ws = w.ID
				if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws, Slug: "game", Name: "Game"}); err != nil {
					return err
				}
				token, err = tx.CreateNode(ctx, &sw.Node{WorkspaceID: ws, Name: "edge"}, []string{"game"})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			summary := srv.URL + "/s/acme/api/v2/summary.json"
			get := func() []byte {
				res, err := http.Get(summary)
				if err != nil {
					b.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return body
			}
			var publish, plain []time.Duration
			i := 0
			for b.Loop() {
				i++
				t0 := time.Now()
				get()
				plain = append(plain, time.Since(t0))

				id := fmt.Sprintf("atk_bench%d", i)
				now := time.Now().UTC()
				ev, _ := json.Marshal(map[string]any{"events": []any{map[string]any{"id": id + "-1", "type": "attack.started", "attack_id": id,
					"seq": 1, "at": now, "started_at": now, "target": "203.0.113.7", "phase": "detected", "severity": "high",
					"classification": "syn_flood", "title": "SYN flood", "vectors": []any{map[string]any{"type": "syn_flood", "proto": "tcp"}}}}})
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/agent/events", strings.NewReader(string(ev)))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t1 := time.Now()
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("post event: %v %v", err, res)
				}
				res.Body.Close()
				for !strings.Contains(string(get()), `"status":"investigating"`) {
				}
				publish = append(publish, time.Since(t1))

				// Resolve it so that the next attack opens a new incident.
				b.StopTimer()
				err = st.Tx(ctx, func(tx *store.Tx) error {
					list, _, err := tx.Incidents(ctx, ws, store.IncidentFilter{Unresolved: true}, store.Page{})
					for _, inc := range list {
						resolved := sw.Resolved
						if _, err := tx.EditIncident(ctx, ws, inc.ID, store.IncidentEdit{Status: &resolved}); err != nil {
							return err
						}
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			p := func(ds []time.Duration, q float64) float64 {
				slices.Sort(ds)
				return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(p(publish, 0.5), "publish-p50-ms")
			b.ReportMetric(p(publish, 0.99), "publish-p99-ms")
			b.ReportMetric(p(plain, 0.99), "plain-get-p99-ms")
		})
	}
}
