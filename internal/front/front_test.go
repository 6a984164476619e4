package front_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/front"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
	"github.com/stormwatch/stormwatch/internal/web"
)

// TestFrontAnswersAsNetHTTP serves one workspace through the fasthttp
// front and through the net/http handler alone, and checks that every
// kind of request gets the same answer: prepared pages in each encoding,
// 304, HEAD, redirects and 404s, the admin API and the event stream
// (through the adaptor).
func TestFrontAnswersAsNetHTTP(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var key string
	err := st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme Games"}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: w.ID, Slug: "game", Name: "Game"}); err != nil {
			return err
		}
		var err error
		_, key, err = tx.CreateAPIKey(ctx, w.ID, "k", sw.RoleOwner)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	hub := live.NewHub()
	st.OnCommit(func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) })
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	h, answerer, err := web.NewWithAnswerer(web.Deps{Log: log, Store: st, API: api.New(st, log), Registry: prometheus.NewRegistry(),
		Hub: hub, BaseURL: "http://status.test", PagesDomain: "pages.test", Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	plain := httptest.NewServer(h)
	defer plain.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := front.New(answerer, h, log, endStreams)
	go func() { _ = f.Serve(ln) }()
	defer func() { _ = f.Shutdown(context.Background()) }()
	fast := "http://" + ln.Addr().String()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DisableCompression: true}}
	get := func(base, method, path string, hdr ...string) (int, http.Header, string) {
		req, _ := http.NewRequest(method, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	_, hdr, _ := get(plain.URL, "GET", "/s/acme/")
	etag := hdr.Get("Etag")
	for _, tc := range []struct {
		method, path string
		hdr          []string
	}{
		{"GET", "/s/acme/", nil},
		{"GET", "/s/acme/", []string{"Accept-Encoding", "gzip"}},
		{"GET", "/s/acme/", []string{"Accept-Encoding", "br, gzip"}},
		{"GET", "/s/acme/", []string{"If-None-Match", etag}},
		{"HEAD", "/s/acme/", nil},
		{"GET", "/s/acme/api/v2/summary.json", nil},
		{"GET", "/s/acme/feed.xml", nil},
		{"GET", "/s/acme", nil},
		{"GET", "/s/nobody/", nil},
		{"GET", "/s/acme/nothing-here", nil},
		{"GET", "/", []string{"Host", "acme.pages.test"}},
		{"GET", "/api/v1/components", []string{"Authorization", "Bearer " + key}},
		{"GET", "/api/v1/components", nil},
		{"GET", "/healthz", nil},
	} {
		t.Run(tc.method+" "+tc.path+" "+strings.Join(tc.hdr, " "), func(t *testing.T) {
			if len(tc.hdr) == 2 && tc.hdr[0] == "Host" {
				t.Skip("net/http clients set Host from the URL; host routing is checked below")
			}
			c1, h1, b1 := get(plain.URL, tc.method, tc.path, tc.hdr...)
			c2, h2, b2 := get(fast, tc.method, tc.path, tc.hdr...)
			if c1 != c2 || b1 != b2 {
				t.Fatalf("net/http %d (%d bytes), front %d (%d bytes)", c1, len(b1), c2, len(b2))
			}
			for _, k := range []string{"Content-Type", "Content-Encoding", "Cache-Control", "Etag", "Vary", "Location", "Access-Control-Allow-Origin"} {
				if h1.Get(k) != h2.Get(k) {
					t.Errorf("%s: net/http %q, front %q", k, h1.Get(k), h2.Get(k))
				}
			}
		})
	}
	// A workspace's own host.
	req, _ := http.NewRequest("GET", fast+"/api/v2/status.json", nil)
	req.Host = "acme.pages.test"
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "All Systems Operational") {
		t.Fatalf("own host: %d %s", res.StatusCode, b)
	}
	// The event stream goes through the adaptor and streams.
	res, err = http.Get(fast + "/s/acme/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "data: {\"revision\":") {
				return
			}
		case <-deadline:
			t.Fatal("no revision event through the front")
		}
	}
}
