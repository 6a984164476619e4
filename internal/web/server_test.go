package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// behind is a database whose schema is older than the binary's.
type behind struct{ PageStore }

func (behind) SchemaVersion(context.Context) (int, error) { return 0, nil }

type down struct{ PageStore }

func (down) Ping(context.Context) error { return errors.New("connection refused") }

func newHandler(t *testing.T, r PageStore) http.Handler {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	h, err := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: r, API: api, Registry: prometheus.NewRegistry(),
		Hub: live.NewHub(), BaseURL: "http://127.0.0.1:8080", PagesDomain: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReadyz(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	tests := []struct {
		name     string
		db       PageStore
		want     int
		wantBody string
	}{
		{"current", st, 200, "ready"},
		{"schema behind", behind{st}, 503, "run stormwatch migrate"},
		{"database down", down{st}, 503, "database unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(newHandler(t, tt.db), "/readyz")
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("readyz = %d %q, want %d %q", rec.Code, rec.Body, tt.want, tt.wantBody)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	h := newHandler(t, storetest.Open(t, store.SQLite))
	if rec := get(h, "/healthz"); rec.Code != 200 || rec.Header().Get("X-Request-ID") == "" {
		t.Fatalf("healthz = %d, request id %q", rec.Code, rec.Header().Get("X-Request-ID"))
	}
	if rec := get(h, "/healthz", "X-Request-ID", "lb-123"); rec.Header().Get("X-Request-ID") != "lb-123" {
		t.Errorf("incoming request id not kept: %q", rec.Header().Get("X-Request-ID"))
	}
	if rec := get(h, "/healthz", "X-Request-ID", "evil\"id with spaces"); rec.Header().Get("X-Request-ID") == "evil\"id with spaces" {
		t.Error("unsafe request id echoed")
	}
	if rec := get(h, "/api/v1/panic"); rec.Code != 500 {
		t.Errorf("panic answered %d, want 500", rec.Code)
	}
	get(h, "/api/v1/x")
	rec := get(h, "/metrics")
	body := rec.Body.String()
	for _, want := range []string{`stormwatch_http_requests_total{code="418",method="GET",route="/api/v1/"} 1`, `route="GET /healthz"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
