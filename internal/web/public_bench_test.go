package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// BenchmarkPublicPage measures the whole handler chain for cached pages:
// what one request costs the server beside the network.
func BenchmarkPublicPage(b *testing.B) {
	s := newSite(b, storetest.Open(b, store.SQLite))
	h := s.srv.Config.Handler
	for _, tc := range []struct {
		name, path string
		header     []string
	}{
		{"html", "/s/acme/", nil},
		{"summary.json", "/s/acme/api/v2/summary.json", nil},
		{"html-gzip", "/s/acme/", []string{"Accept-Encoding", "gzip, deflate, br"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Host = "status.test:8080"
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, req) // render once
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, req)
			}
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
		})
	}
}

// discard is a ResponseWriter that keeps nothing but the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) reset() {
	clear(d.h)
	d.code = 200
}
