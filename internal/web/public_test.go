package web

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/prometheus/client_golang/prometheus"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// site is a whole server (pages, API) on a real store.
type site struct {
	t     testing.TB
	store *store.Store
	srv   *httptest.Server
	ws    string
	key   string
}

func newSite(t testing.TB, st *store.Store) *site {
	t.Helper()
	hub := live.NewHub()
	st.OnCommit(func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	streams, end := context.WithCancel(context.Background())
	t.Cleanup(end)
	h, err := New(Deps{Log: log, Store: st, API: api.New(st, log), Registry: prometheus.NewRegistry(), Hub: hub,
		BaseURL: "http://status.test:8080", PagesDomain: "pages.test", Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &site{t: t, store: st, srv: srv}
	err = st.Tx(context.Background(), func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme Games"}
		if err := tx.CreateWorkspace(context.Background(), w); err != nil {
			return err
		}
		_, key, err := tx.CreateAPIKey(context.Background(), w.ID, "k", sw.RoleOwner)
		s.ws, s.key = w.ID, key
		if err != nil {
			return err
		}
		d, err := tx.CreateDomain(context.Background(), w.ID, "status.acme.example")
		if err != nil {
			return err
		}
		if err := tx.MarkDomainVerified(context.Background(), w.ID, d.ID); err != nil {
			return err
		}
		_, err = tx.CreateDomain(context.Background(), w.ID, "unverified.acme.example")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// get fetches path with the Host header host and extra headers.
func (s *site) get(host, path string, headers ...string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// The transport would add and undo gzip itself; ask explicitly.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { res.Body.Close() })
	return res
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var r io.Reader = res.Body
	switch res.Header.Get("Content-Encoding") {
	case "gzip":
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(res.Body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (s *site) api(method, path, json string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(json))
	req.Host = "status.test:8080"
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		s.t.Fatalf("%s %s = %d", method, path, res.StatusCode)
	}
}

func TestPublicRouting(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	tests := []struct {
		name, host, path string
		want             int
		contains         string
	}{
		{"main host prefix", "status.test:8080", "/s/acme/", 200, `href="/s/acme/history"`},
		{"prefix without slash", "status.test:8080", "/s/acme", 301, ""},
		{"prefix json", "status.test:8080", "/s/acme/api/v2/summary.json", 200, `"url":"http://status.test:8080/s/acme"`},
		{"unknown slug", "status.test:8080", "/s/nope/", 404, ""},
		{"bad slug", "status.test:8080", "/s/NOPE%20x/", 404, ""},
		{"subdomain root", "acme.pages.test:8080", "/", 200, `href="/history"`},
		{"subdomain statuspage path", "acme.pages.test", "/api/v2/status.json", 200, `"url":"http://acme.pages.test:8080"`},
		{"subdomain unknown", "nope.pages.test", "/", 404, ""},
		{"custom domain root", "status.acme.example", "/api/v2/summary.json", 200, `"url":"http://status.acme.example:8080"`},
		{"custom domain feed", "status.acme.example", "/history.atom", 200, `<feed`},
		{"custom domain rss", "status.acme.example", "/history.rss", 200, `<rss`},
		{"unverified domain is main host", "unverified.acme.example", "/api/v2/summary.json", 404, ""},
		{"api on main host", "status.test:8080", "/api/v1/workspace", 401, ""},
		{"unknown page path", "acme.pages.test", "/wp-admin", 404, ""},
		{"unknown incident", "acme.pages.test", "/incidents/inc_0000", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.get(tt.host, tt.path)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if tt.contains != "" && !strings.Contains(body(t, res), tt.contains) {
				t.Errorf("body lacks %s", tt.contains)
			}
		})
	}
}

func TestPublicCachingHeaders(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	res := s.get("acme.pages.test", "/api/v2/summary.json")
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Cache-Control"), "stale-while-revalidate") {
		t.Fatalf("headers %v", res.Header)
	}
	if r := s.get("acme.pages.test", "/api/v2/summary.json", "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d, want 304", r.StatusCode)
	}
	plain := body(t, s.get("acme.pages.test", "/"))
	for _, enc := range []string{"gzip", "br"} {
		r := s.get("acme.pages.test", "/", "Accept-Encoding", enc)
		if r.Header.Get("Content-Encoding") != enc || body(t, r) != plain {
			t.Errorf("%s: encoding %q or body differs", enc, r.Header.Get("Content-Encoding"))
		}
	}
	if r := s.get("acme.pages.test", "/", "Accept-Encoding", "gzip;q=0, identity"); r.Header.Get("Content-Encoding") != "" {
		t.Error("q=0 refusal ignored")
	}
	// A change is visible on the next request, with a new ETag.
	s.api("POST", "/api/v1/components", `{"name":"Game servers"}`)
	res = s.get("acme.pages.test", "/api/v2/summary.json", "If-None-Match", etag)
	if res.StatusCode != 200 || !strings.Contains(body(t, res), "Game servers") || res.Header.Get("ETag") == etag {
		t.Fatalf("after a change: %d, etag %s", res.StatusCode, res.Header.Get("ETag"))
	}
}

func TestEventsStreamRevisions(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	req, _ := http.NewRequest("GET", s.srv.URL+"/s/acme/events", nil)
	req.Host = "status.test:8080"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(res.Body)
	next := func() string {
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "data: ") {
				return l
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	w, err := s.store.Workspace(ctx, s.ws)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next(), fmt.Sprintf(`data: {"revision":%d}`, w.Revision); got != want {
		t.Fatalf("first message %q, want %q", got, want)
	}
	s.api("POST", "/api/v1/components", `{"name":"Edge"}`)
	if got, want := next(), fmt.Sprintf(`data: {"revision":%d}`, w.Revision+1); got != want {
		t.Fatalf("after change %q, want %q", got, want)
	}
}
