package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/autotls"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/channel/channels"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/dashboard"
	"github.com/stormwatch/stormwatch/internal/delivery"
	"github.com/stormwatch/stormwatch/internal/domains"
	"github.com/stormwatch/stormwatch/internal/front"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/maintenance"
	"github.com/stormwatch/stormwatch/internal/metrics"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/probe"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/web"
)

func runServe(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "stormwatch serve [flags]", `
Runs the control plane: the public status pages, the admin and agent APIs,
and the operational endpoints /healthz, /readyz and /metrics. Migrations are
applied at start. Data lives in an embedded SQLite file under --data-dir
unless --database-url names a PostgreSQL server, which several replicas can
share. SIGTERM or Ctrl-C stops it after in-flight requests finish.

The dashboard is at <base-url>/admin/; on a database without accounts the
log prints a one-time setup link for the first owner. With --tls it also
serves HTTPS on --https-addr with certificates obtained by ACME when a name
is first visited (only the base host, verified custom domains and
{slug}.<pages-domain>), redirecting --http-addr to HTTPS.`, `
  stormwatch serve
  stormwatch serve --addr 0.0.0.0:8080 --base-url https://status.example.com
  stormwatch serve --tls --base-url https://status.example.com --acme-email ops@example.com --hsts 8760h
  STORMWATCH_DATABASE_URL=postgres://stormwatch@db:5432/stormwatch stormwatch serve
  stormwatch serve --config /etc/stormwatch/stormwatch.yaml`, stderr)
	var db config.Database
	var srv config.Server
	var logc config.Log
	var auto config.Automation
	var nc config.Notify
	var tlsc config.TLS
	db.Register(fs)
	srv.Register(fs)
	auto.Register(fs)
	nc.Register(fs)
	tlsc.Register(fs)
	logc.Register(fs)
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	if err := srv.Validate(); err != nil {
		return err
	}
	if err := auto.Validate(); err != nil {
		return err
	}
	if err := nc.Validate(); err != nil {
		return err
	}
	if err := tlsc.Validate(); err != nil {
		return err
	}
	// Before anything is loaded: the limit shapes the whole run.
	if os.Getenv("GOMEMLIMIT") == "" && srv.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(srv.MemoryLimit))
	}
	st, log, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	return serveUntil(ctx, st, log, settings{srv, auto, nc, tlsc}, nil)
}

// settings are serve's validated settings.
type settings struct {
	srv  config.Server
	auto config.Automation
	nc   config.Notify
	tls  config.TLS
}

// serveUntil runs the control plane on st until ctx ends, then shuts down
// gracefully. ready, if set, gets the address it listens on.
func serveUntil(ctx context.Context, st *store.Store, log *slog.Logger, set settings, ready func(addr string)) error {
	srv, auto, nc := set.srv, set.auto, set.nc
	mailer, from, err := newMailer(srv, nc, log)
	if err != nil {
		return err
	}
	if mailer != nil {
		// Closed last, after the workers that send with it have stopped.
		defer mailer.Close()
	}
	hub := live.NewHub()
	st.OnCommit(func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) })
	// The poll is the fallback for revisions committed elsewhere; it stops
	// before the store closes.
	pollCtx, stopPoll := context.WithCancel(ctx)
	var workers sync.WaitGroup
	workers.Go(func() { hub.Poll(pollCtx, time.Second, st.Revisions, log) })
	automator := incident.New(incident.Settings{Correlation: auto.Correlation, Resolve: auto.ResolveAfter}, log)
	automator.HandleTimers(maintenance.Fire, maintenance.Kinds...)
	defer workers.Wait()
	defer stopPoll()

	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	if strings.HasSuffix(srv.BaseURL, ":0") {
		// Port 0 picked a free port: links must name the real one.
		srv.BaseURL = "http://" + ln.Addr().String()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	silence := auto.NodeSilence
	if silence <= 0 {
		silence = 30 * time.Second // what the nodes gauge calls silent when the automation watches no silence
	}
	mx := metrics.New(reg, st, silence, log)
	automator.OnDecision(mx.Decision)
	guard := &notify.Guard{AllowPrivate: srv.AllowPrivateWebhooks}
	// Checks the server runs for tenants obey the webhooks' SSRF policy.
	mon := monitor.New(automator, log)
	monitors := monitor.NewServer(st, mon, &probe.Prober{Allow: guard.CheckAddr})
	senders, err := newChannels(guard, nc)
	if err != nil {
		ln.Close()
		return err
	}
	sender, links, err := newSender(ctx, st, log, srv, nc, guard, mailer, from, mx.Delivery, senders)
	if err != nil {
		ln.Close()
		return err
	}
	checker, err := newChecker(ctx, st, srv, set.tls)
	if err != nil {
		ln.Close()
		return err
	}
	// Private pages' cookies and invitation links are signed with a key
	// of their own, the same on every replica.
	accessKey, err := st.InstallationSecret(ctx, "page-access")
	if err != nil {
		ln.Close()
		return err
	}
	dash, err := newDashboard(ctx, st, log, srv, guard, mailer, from, checker, mon, senders, accessKey)
	if err != nil {
		ln.Close()
		return err
	}
	st.OnNotify(sender.Wake)
	// Several replicas may share the database: what one commits reaches
	// the others' page caches, event streams and senders at once; timers
	// and periodic checks run on one elected replica; deliveries are
	// claimed by all.
	workers.Go(func() {
		st.Listen(pollCtx, func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) }, sender.Wake, log)
	})
	workers.Go(func() {
		st.Lead(pollCtx, "automation", mx.Lead("automation", func(ctx context.Context) { automator.Run(ctx, st, 500*time.Millisecond, auto.NodeSilence) }), log)
	})
	workers.Go(func() {
		st.Lead(pollCtx, "monitors", mx.Lead("monitors", monitors.Run), log)
	})
	workers.Go(func() {
		st.Lead(pollCtx, "domain-checks", mx.Lead("domain-checks", func(ctx context.Context) { checker.Run(ctx, st, set.tls.DomainCheck, log) }), log)
	})
	workers.Go(func() {
		st.Lead(pollCtx, "retention", mx.Lead("retention", func(ctx context.Context) { st.PruneCapturesEvery(ctx, time.Hour, srv.CaptureRetention, log) }), log)
	})
	workers.Go(func() { sender.Run(pollCtx) })
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	var draining atomic.Bool
	apiOpts := []api.Option{api.WithAutomation(automator), api.WithObserver(mx), api.WithMonitor(mon),
		api.WithWebhookGuard(guard), api.WithDomainChecker(checker)}
	deps := web.Deps{Log: log, Store: st, Registry: reg, Hub: hub,
		BaseURL: srv.BaseURL, PagesDomain: srv.PagesDomain, Streams: streams,
		Subscriptions: st, Links: links, AccessKey: accessKey, Guard: guard, Dashboard: dash, Draining: draining.Load,
		Clients: ratelimit.Clients{Trusted: srv.Trusted}, MaxStreams: srv.MaxEventStreams, MaxStreamsPerClient: srv.MaxEventStreamsPerClient}
	if mailer != nil {
		// Private pages' invitation links go out at once, not queued:
		// whoever asks learns then whether the mail left.
		apiOpts = append(apiOpts, api.WithPageInvites(mailer, accessKey, from, srv.BaseURL))
		deps.Mailer, deps.MailFrom = mailer, from
	}
	deps.API = api.New(st, log, apiOpts...)
	handler, answerer, err := web.NewWithAnswerer(deps)
	if err != nil {
		ln.Close()
		return err
	}

	// The plain listener has fasthttp in front for the public page GETs;
	// the TLS listeners are net/http (HTTP/2).
	servers := []*listening{{name: "HTTP", ln: ln, srv: front.New(answerer, handler, log, endStreams)}}
	if set.tls.Enabled {
		secure, stopTLS, err := listenTLS(st, log, srv, set.tls, handler, mx.Certificate)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopTLS()
		servers = append(servers, secure...)
	}
	errc := make(chan error, len(servers))
	for _, l := range servers {
		// Event streams never go idle; end them so Shutdown can finish.
		if hs, ok := l.srv.(*http.Server); ok {
			hs.RegisterOnShutdown(endStreams)
		}
		go func() { errc <- l.serve() }()
	}
	log.Info("listening", "addr", ln.Addr().String(), "base_url", srv.BaseURL, "dashboard", strings.TrimSuffix(srv.BaseURL, "/")+"/admin/", "database", string(st.Dialect()))
	for _, l := range servers[1:] {
		log.Info("serving "+l.name, "addr", l.ln.Addr().String())
	}
	if setup, err := dashboard.SetupLink(ctx, st, srv.BaseURL); err != nil {
		log.Error("make first-run setup link", "err", err)
	} else if setup != "" {
		// The one way in on a fresh installation; it is a secret, valid
		// for a day, and printed again at every start until it is used.
		log.Info("no accounts yet: open the setup link to create the first owner", "setup_url", setup)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		for _, l := range servers {
			_ = l.srv.Close()
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if srv.DrainDelay > 0 {
		draining.Store(true)
		log.Info("draining: /readyz answers 503 while requests are still served", "for", srv.DrainDelay.String())
		time.Sleep(srv.DrainDelay)
	}
	log.Info("shutting down", "grace", srv.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), srv.ShutdownTimeout)
	defer cancel()
	var shutdown sync.WaitGroup
	failed := make(chan error, len(servers))
	for _, l := range servers {
		shutdown.Go(func() {
			if err := l.srv.Shutdown(shutdownCtx); err != nil {
				failed <- fmt.Errorf("shutdown %s: %w", l.name, err)
			}
		})
	}
	shutdown.Wait()
	close(failed)
	if err := <-failed; err != nil {
		return err
	}
	for range servers {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("stopped")
	return nil
}

// listening is one of serve's HTTP servers on its listener.
type listening struct {
	name string
	ln   net.Listener
	srv  httpServer
}

// httpServer is what serve needs of *http.Server and *front.Server.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

func (l *listening) serve() error { return l.srv.Serve(l.ln) }

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// listenTLS opens --http-addr (ACME HTTP-01 and the redirect) and
// --https-addr (the pages, dashboard and APIs over TLS with certificates
// on demand).
func listenTLS(st *store.Store, log *slog.Logger, srv config.Server, tc config.TLS, handler http.Handler,
	onCertificate func(obtained, renewal bool)) ([]*listening, func(), error) {
	httpLn, err := net.Listen("tcp", tc.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s (http-addr): %w", tc.HTTPAddr, err)
	}
	httpsLn, err := net.Listen("tcp", tc.HTTPSAddr)
	if err != nil {
		httpLn.Close()
		return nil, nil, fmt.Errorf("listen on %s (https-addr): %w", tc.HTTPSAddr, err)
	}
	fail := func(err error) ([]*listening, func(), error) {
		httpLn.Close()
		httpsLn.Close()
		return nil, nil, err
	}
	var roots *x509.CertPool
	if tc.ACMERoot != "" {
		if roots, err = autotls.LoadRoots(tc.ACMERoot); err != nil {
			return fail(fmt.Errorf("acme-ca-root: %w", err))
		}
	}
	base, _ := url.Parse(srv.BaseURL)
	pages := srv.PagesDomain
	if pages == "localhost" {
		pages = "" // no CA issues for localhost names
	}
	m, err := autotls.New(autotls.Config{Store: st, Log: log, CA: tc.ACMECA, Email: tc.ACMEEmail, CARoots: roots,
		HTTPPort: httpLn.Addr().(*net.TCPAddr).Port, TLSPort: httpsLn.Addr().(*net.TCPAddr).Port,
		BaseHost: base.Hostname(), PagesDomain: pages, IssuePerMinute: tc.IssuePerMinute, OnCertificate: onCertificate,
		OnFailure: func(host, reason string) { certificateFailed(st, log, host, reason) }})
	if err != nil {
		return fail(err)
	}
	secure := newHTTPServer(autotls.HSTS(tc.HSTS, handler))
	return []*listening{
		{name: "ACME challenges and redirect to HTTPS", ln: httpLn, srv: newHTTPServer(m.HTTPHandler(handler))},
		{name: "HTTPS", ln: tls.NewListener(httpsLn, m.TLSConfig()), srv: secure},
	}, m.Stop, nil
}

// newChecker builds the custom domain checker; its tokens are derived
// from a key kept once per installation.
func newChecker(ctx context.Context, st *store.Store, srv config.Server, tc config.TLS) (*domains.Checker, error) {
	key, err := st.InstallationSecret(ctx, "domain-verification")
	if err != nil {
		return nil, err
	}
	target := tc.CNAMETarget
	if target == "" {
		u, _ := url.Parse(srv.BaseURL)
		target = u.Hostname()
	}
	return &domains.Checker{Resolver: domains.NewResolver(tc.DNSResolver), Target: target, Key: key}, nil
}

// newMailer connects to --smtp-url (nil without one) and picks the
// installation's sender address.
func newMailer(srv config.Server, nc config.Notify, log *slog.Logger) (*notify.Mailer, string, error) {
	from := nc.MailFrom
	if from == "" {
		host := "localhost"
		if u, err := url.Parse(srv.BaseURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		from = "status@" + host
	}
	if nc.SMTPURL == "" {
		log.Warn("no --smtp-url: mails to subscribers wait in the outbox until one is set, and the dashboard mails nothing")
		return nil, from, nil
	}
	cfg, err := notify.ParseSMTPURL(nc.SMTPURL)
	if err != nil {
		return nil, "", fmt.Errorf("smtp-url: %w", err)
	}
	return notify.NewMailer(cfg, nc.SMTPConns, 30*time.Second), from, nil
}

// newDashboard builds /admin/, its anti-forgery key shared by replicas
// through the database.
func newDashboard(ctx context.Context, st *store.Store, log *slog.Logger, srv config.Server, guard *notify.Guard, mailer *notify.Mailer, from string, checker *domains.Checker, mon *monitor.Monitor, senders map[string]channel.Sender, accessKey []byte) (http.Handler, error) {
	key, err := st.InstallationSecret(ctx, "dashboard-csrf")
	if err != nil {
		return nil, err
	}
	d := dashboard.Deps{Store: st, Log: log, BaseURL: srv.BaseURL, Key: key, Guard: guard, MailFrom: from, Domains: checker, Monitor: mon, Channels: senders,
		Clients: ratelimit.Clients{Trusted: srv.Trusted}, AccessKey: accessKey}
	if mailer != nil {
		d.Mailer = mailer
	}
	return dashboard.New(d)
}

// newChannels builds the chat and on-call senders: the webhooks' SSRF
// guard and timeout, the API endpoints the operator set.
func newChannels(guard *notify.Guard, nc config.Notify) (map[string]channel.Sender, error) {
	endpoints := channels.Endpoints{}
	for _, v := range nc.Endpoints {
		if err := channels.ParseEndpoint(endpoints, v); err != nil {
			return nil, &config.Error{Msg: "integration-endpoint: " + err.Error()}
		}
	}
	return channels.New(channel.NewPoster(notify.NewWebhookSender(guard, nc.WebhookTimeout)), endpoints), nil
}

// newSender builds the delivery worker: webhooks through the SSRF guard,
// mails through mailer (nil: they wait), links signed with the
// installation's key.
func newSender(ctx context.Context, st *store.Store, log *slog.Logger, srv config.Server, nc config.Notify, guard *notify.Guard,
	mailer *notify.Mailer, from string, observe func(channel, outcome string), senders map[string]channel.Sender) (*delivery.Worker, notify.Links, error) {
	key, err := st.InstallationSecret(ctx, "subscription-links")
	if err != nil {
		return nil, notify.Links{}, err
	}
	links := notify.Links{Key: key}
	return delivery.New(delivery.Config{Store: st, Webhooks: notify.NewWebhookSender(guard, nc.WebhookTimeout), Mailer: mailer,
		Channels: senders,
		Links:    links, MailFrom: from, BaseURL: srv.BaseURL, Log: log, Concurrency: nc.Workers,
		Lease: 2*nc.WebhookTimeout + 10*time.Second, Observe: observe}), links, nil
}

// certificateFailed tells the owners and operator channels of the
// workspace whose custom domain host is that its certificate failed, once
// a day while it keeps failing.
func certificateFailed(st *store.Store, log *slog.Logger, host, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := st.WorkspaceIDByDomain(ctx, host)
	if err != nil || ws == "" {
		return // the installation's own names: the log says it
	}
	err = st.Tx(ctx, func(tx *store.Tx) error {
		return tx.NoticeOnce(ctx, ws, "certificate.failed", "No HTTPS certificate for "+host,
			fmt.Sprintf("The certificate authority did not give %s a certificate: %s. Visitors on https://%s see an error until it does; the server keeps trying.", host, reason, host),
			time.Now().Add(-24*time.Hour))
	})
	if err != nil {
		log.Warn("notice of a failed certificate", "host", host, "err", err)
	}
}
