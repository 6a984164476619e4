// Package web assembles stormwatch's HTTP surface: it mounts the JSON API
// (and, as they arrive, the public pages and the dashboard), serves the
// operational endpoints /healthz, /readyz and /metrics, and wraps every
// request in a request id, an access log line, metrics and panic recovery.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Readiness is what /readyz asks of the database.
type Readiness interface {
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
}

// Deps are what the HTTP surface is built from.
type Deps struct {
	Log      *slog.Logger
	Store    Readiness
	API      http.Handler
	Registry *prometheus.Registry
}

// New returns the root handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(d.Store))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{Registry: d.Registry}))
	mux.Handle("/api/v1/", d.API)
	m := newMetrics(d.Registry)
	return withRequestID(withAccess(d.Log, m, withRecover(d.Log, mux)))
}

func readyz(st Readiness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			http.Error(w, "schema version unknown: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if want := store.LatestVersion(); v != want {
			http.Error(w, "database schema is at migration "+itoa(v)+", this binary needs "+itoa(want)+"; run stormwatch migrate", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
}
