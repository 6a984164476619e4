package front

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
	"github.com/stormwatch/stormwatch/internal/web"
	"github.com/valyala/fasthttp"
)

// BenchmarkFront measures what one public GET costs the fasthttp front
// beside the network: routing, the language and encoding choice, and the
// prepared bytes. Allocations here are what the garbage collector pays
// for under a storm.
func BenchmarkFront(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	err := st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme Games"}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		return tx.CreateComponent(ctx, &sw.Component{WorkspaceID: w.ID, Slug: "game", Name: "Game"})
	})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	hub := live.NewHub()
	h, answerer, err := web.NewWithAnswerer(web.Deps{Log: log, Store: st, API: http.NotFoundHandler(), Registry: prometheus.NewRegistry(),
		Hub: hub, BaseURL: "http://status.test", PagesDomain: "pages.test"})
	if err != nil {
		b.Fatal(err)
	}
	f := New(answerer, h, log, nil)
	for _, tc := range []struct {
		name, path string
		header     []string
	}{
		{"html", "/s/acme/", nil},
		{"html-gzip-de", "/s/acme/", []string{"Accept-Encoding", "gzip, deflate, br", "Accept-Language", "de-DE,de;q=0.9,en;q=0.8"}},
		{"summary.json-gzip", "/s/acme/api/v2/summary.json", []string{"Accept-Encoding", "gzip"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var rc fasthttp.RequestCtx
			var req fasthttp.Request
			req.SetRequestURI(tc.path)
			req.Header.SetHost("status.test")
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			rc.Init(&req, nil, nil)
			f.srv.Handler(&rc) // render once
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rc.Response.Reset()
				f.srv.Handler(&rc)
			}
			if rc.Response.StatusCode() != 200 {
				b.Fatalf("status %d", rc.Response.StatusCode())
			}
		})
	}
}
