// Package web assembles stormwatch's HTTP surface: the workspaces' public
// status pages (routed by path, subdomain or custom domain, served from a
// per-revision cache), the JSON API, and the operational endpoints
// /healthz, /readyz and /metrics; every request gets a request id, an
// access log line, metrics and panic recovery.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stormwatch/stormwatch/internal/access"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
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
	Store    PageStore
	API      http.Handler
	Registry *prometheus.Registry
	Hub      *live.Hub
	// BaseURL is the externally visible URL of the main host.
	BaseURL string
	// PagesDomain serves {slug}.<PagesDomain> as a workspace's page.
	PagesDomain string
	// Streams ends long-lived responses (event streams) at shutdown.
	Streams context.Context
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Subscriptions, when set, serves each page's /subscribe form and the
	// links of subscription mails, signed with Links; webhook URLs given
	// there are checked by Guard.
	Subscriptions *store.Store
	Links         notify.Links
	Guard         *notify.Guard
	// AccessKey signs private pages' access cookies and invitation links
	// (nil: Links' key).
	AccessKey []byte
	// Dashboard, when set, serves the operators' interface under /admin/.
	Dashboard http.Handler
	// Clients finds a request's client address behind trusted proxies,
	// for the per-client limits.
	Clients ratelimit.Clients
	// Draining, when it reports true, makes /readyz answer 503 while the
	// server still serves: it is shutting down.
	Draining func() bool
	// Mailer and MailFrom send private pages' invitation links (nil: the
	// access form offers no link by mail).
	Mailer   InviteMailer
	MailFrom string
	// MaxStreams and MaxStreamsPerClient cap live-update streams in all
	// (0: DefaultMaxStreams) and per client address (0: 32).
	MaxStreams, MaxStreamsPerClient int
}

// New returns the root handler.
func New(d Deps) (http.Handler, error) {
	h, _, err := NewWithAnswerer(d)
	return h, err
}

// NewWithAnswerer returns the root handler and an Answerer that serves
// its public page GETs from prepared bytes for a server other than
// net/http.
func NewWithAnswerer(d Deps) (http.Handler, *Answerer, error) {
	base, err := url.Parse(d.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Streams == nil {
		d.Streams = context.Background()
	}
	if d.MaxStreams <= 0 {
		d.MaxStreams = DefaultMaxStreams()
	}
	if d.MaxStreamsPerClient <= 0 {
		d.MaxStreamsPerClient = 32
	}
	pub := &public{log: d.Log, clients: d.Clients, streamLimit: newStreamLimit(d.MaxStreams, d.MaxStreamsPerClient), store: d.Store, hub: d.Hub, cache: newPageCache(d.Store, d.Hub, d.Now), base: base,
		baseRoot: strings.TrimSuffix(base.String(), "/"), baseHost: hostname(base.Host), pagesDomain: d.PagesDomain, streams: d.Streams}
	// A new link or a password try: ten a quarter hour per client and page.
	if d.AccessKey == nil {
		d.AccessKey = d.Links.Key
	}
	pub.access = &pageAccess{log: d.Log, store: d.Store, keys: access.Keys{Secret: d.AccessKey}, from: d.MailFrom, clients: d.Clients,
		tries: ratelimit.New(10, 15*time.Minute), secure: base.Scheme == "https", now: d.Now}
	if d.Mailer != nil {
		pub.access.mailer = d.Mailer
	}
	if d.Subscriptions != nil {
		if d.Guard == nil {
			d.Guard = &notify.Guard{}
		}
		pub.subs = &subscriptions{store: d.Subscriptions, links: d.Links, guard: d.Guard, perIP: ratelimit.New(10, time.Hour), clients: d.Clients, now: d.Now}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readyz(d.Store, d.Draining))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{Registry: d.Registry}))
	mux.Handle("/api/v1/", d.API)
	if d.Dashboard != nil {
		mux.Handle("/admin/", d.Dashboard)
		mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
	}
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("stormwatch: each workspace's status page is at /s/{slug}/; the dashboard is at /admin/\n"))
	})

	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, site, own, err := pub.route(r)
		switch {
		case err != nil:
			pub.fail(w, r, err)
		case own:
			pub.serve(w, r, ws, site, r.URL.Path)
		case strings.HasPrefix(r.URL.Path, "/s/") && len(r.URL.Path) > len("/s/"):
			pub.servePrefixed(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
	m := newMetrics(d.Registry, d.Log)
	d.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stormwatch_event_streams", Help: "Open Server-Sent Event streams of public pages.",
	}, func() float64 { return float64(d.Hub.Subscribers()) }))
	return m.observe(cleanText(root)), newAnswerer(pub, m), nil
}

func readyz(st Readiness, draining func() bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if draining != nil && draining() {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
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
