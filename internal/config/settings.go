package config

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/ratelimit"
)

// Database says where the data lives: an embedded SQLite file under DataDir,
// or PostgreSQL when DatabaseURL is set.
type Database struct {
	DataDir     string
	DatabaseURL string
	MaxConns    int
}

// Register adds the database flags to fs.
func (d *Database) Register(fs *flag.FlagSet) {
	fs.StringVar(&d.DataDir, "data-dir", "./data", "`directory` of the embedded SQLite database (stormwatch.db)")
	fs.StringVar(&d.DatabaseURL, "database-url", "", "PostgreSQL `DSN` (postgres://user:pass@host:5432/db?sslmode=disable); when set, replaces SQLite")
	fs.IntVar(&d.MaxConns, "database-max-connections", 20, "PostgreSQL connections a replica pools (it holds 3 more: one listening, two leading)")
}

// Validate checks the DSN's form, or that the data directory can be
// created and written.
func (d *Database) Validate() error {
	if d.MaxConns < 0 {
		return errorf("database-max-connections: must be positive, got %d", d.MaxConns)
	}
	if d.DatabaseURL != "" {
		u, err := url.Parse(d.DatabaseURL)
		if err != nil {
			return errorf("database-url: not a URL: %v", redactErr(err, d.DatabaseURL))
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return errorf("database-url: scheme %q is not supported; use postgres://user:pass@host:5432/dbname", u.Scheme)
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return errorf("database-url: no host in %q", Redact(d.DatabaseURL))
		}
		return nil
	}
	if d.DataDir == "" {
		return errorf("data-dir: must not be empty")
	}
	if err := os.MkdirAll(d.DataDir, 0o750); err != nil {
		return errorf("data-dir: cannot create %s: %v", d.DataDir, err)
	}
	probe, err := os.CreateTemp(d.DataDir, ".write-test-*")
	if err != nil {
		return errorf("data-dir: %s is not writable: %v", d.DataDir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// SQLitePath is the database file used when no DatabaseURL is set.
func (d *Database) SQLitePath() string { return filepath.Join(d.DataDir, "stormwatch.db") }

// Redact hides the password of a DSN for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// Log configures structured logging.
type Log struct {
	Level  string
	Format string
}

// Register adds the logging flags to fs.
func (l *Log) Register(fs *flag.FlagSet) {
	fs.StringVar(&l.Level, "log-level", "info", "least important `level` logged: debug, info, warn or error")
	fs.StringVar(&l.Format, "log-format", "text", "log `format`: text (logfmt) or json")
}

// Validate checks the level and format names.
func (l *Log) Validate() error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return errorf("log-level: %q is not one of debug, info, warn, error", l.Level)
	}
	if l.Format != "text" && l.Format != "json" {
		return errorf("log-format: %q is not text or json", l.Format)
	}
	return nil
}

// Logger builds the logger the settings describe, writing to w.
func (l *Log) Logger(w *os.File) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(l.Level)) // validated already
	opts := &slog.HandlerOptions{Level: lv}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Server configures the control plane's HTTP side.
type Server struct {
	Addr                 string
	BaseURL              string
	PagesDomain          string
	ShutdownTimeout      time.Duration
	DrainDelay           time.Duration
	AllowPrivateWebhooks bool
	// TrustedProxies is the comma-separated CIDR list of the load
	// balancers in front, whose X-Forwarded-For is believed.
	TrustedProxies string
	Trusted        []netip.Prefix
	// MaxEventStreams caps the live-update streams of public pages in
	// all (0: from the open-file limit, keeping a reserve for the
	// database, the dashboard and the APIs); MaxEventStreamsPerClient
	// caps them per client address.
	MaxEventStreams          int
	MaxEventStreamsPerClient int
	// MemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
	// is not set (0: none).
	MemoryLimit Size
	// CaptureRetention is how long attack captures (pcapng) are kept.
	CaptureRetention time.Duration
}

// DefaultCaptureRetention is how long attack captures are kept unless
// --capture-retention says otherwise.
const DefaultCaptureRetention = 30 * 24 * time.Hour

// Register adds the server flags to fs.
func (s *Server) Register(fs *flag.FlagSet) {
	fs.StringVar(&s.Addr, "addr", "127.0.0.1:8080", "`host:port` to serve HTTP on (pages, dashboard, APIs)")
	fs.StringVar(&s.BaseURL, "base-url", "", "externally visible `URL` used in links and mails (default: http://<addr>)")
	fs.StringVar(&s.PagesDomain, "pages-domain", "localhost", "`domain` under which each workspace's page is also served at {slug}.<domain>")
	fs.DurationVar(&s.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish after SIGTERM")
	fs.DurationVar(&s.DrainDelay, "drain-delay", 0, "after SIGTERM, answer /readyz with 503 but keep serving this long, so a load balancer stops sending first")
	fs.StringVar(&s.TrustedProxies, "trusted-proxies", "", "comma-separated `CIDRs` of load balancers in front, whose X-Forwarded-For names the client for per-client limits")
	fs.IntVar(&s.MaxEventStreams, "max-event-streams", 0, "most live-update streams (/events) open at once; `0` picks half of the open-file limit less a reserve of 1024 for the database, dashboard and APIs")
	fs.IntVar(&s.MaxEventStreamsPerClient, "max-event-streams-per-client", 32, "most live-update streams one client address may hold (tabs of one office behind one NAT)")
	s.MemoryLimit = 40 << 20
	fs.Var(&s.MemoryLimit, "memory-limit", "soft memory `limit` of the Go runtime (GOMEMLIMIT wins when set): the garbage collector works harder near it, so a storm of page readers stays near 55 MB; 0 turns it off; raise it for installations with many large workspaces")
	fs.DurationVar(&s.CaptureRetention, "capture-retention", DefaultCaptureRetention, "how long attack captures (the pcapng agents upload with each attack) are kept")
	fs.BoolVar(&s.AllowPrivateWebhooks, "allow-private-webhooks", false, "let webhook subscribers reach loopback and private addresses (tests, demos, closed networks)")
}

// Validate checks the address and URL, and fills the base URL's default.
func (s *Server) Validate() error {
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return errorf("addr: %q is not host:port: %v", s.Addr, err)
	}
	if s.BaseURL == "" {
		s.BaseURL = "http://" + s.Addr
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errorf("base-url: %q is not an absolute http(s) URL", s.BaseURL)
	}
	s.BaseURL = strings.TrimSuffix(s.BaseURL, "/")
	if s.PagesDomain == "" || strings.ContainsAny(s.PagesDomain, "/: ") {
		return errorf("pages-domain: %q is not a domain name", s.PagesDomain)
	}
	trusted, err := ratelimit.ParseTrusted(s.TrustedProxies)
	if err != nil {
		return errorf("trusted-proxies: %v", err)
	}
	s.Trusted = trusted
	if s.DrainDelay < 0 {
		return errorf("drain-delay: must not be negative, got %s", s.DrainDelay)
	}
	if s.MaxEventStreams < 0 || s.MaxEventStreamsPerClient < 0 {
		return errorf("max-event-streams and max-event-streams-per-client: must not be negative (0: the default)")
	}
	if s.ShutdownTimeout <= 0 {
		return errorf("shutdown-timeout: must be positive, got %s", s.ShutdownTimeout)
	}
	if s.CaptureRetention == 0 {
		s.CaptureRetention = DefaultCaptureRetention
	}
	if s.CaptureRetention < time.Hour {
		return errorf("capture-retention: at least 1h, got %s", s.CaptureRetention)
	}
	return nil
}

// Usage returns a flag.FlagSet Usage function that prints a command's
// synopsis, its explanation, its flags with their environment variables,
// and examples.
func Usage(fs *flag.FlagSet, synopsis, about, examples string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags (each also read from STORMWATCH_<FLAG> and from the --config YAML file):\n", synopsis, strings.TrimSpace(about))
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			fmt.Fprintf(w, "\n        %s", usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "\n        env %s\n", EnvName(f.Name))
		})
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(examples, "\n"))
		}
	}
}

// Automation configures how attacks become incidents.
type Automation struct {
	Correlation  time.Duration
	ResolveAfter time.Duration
	NodeSilence  time.Duration
}

// Register adds the automation flags to fs.
func (a *Automation) Register(fs *flag.FlagSet) {
	fs.DurationVar(&a.Correlation, "correlation-window", 10*time.Minute, "an attack joins an open automatic incident on the same components opened this recently")
	fs.DurationVar(&a.ResolveAfter, "resolve-after", 2*time.Minute, "traffic normal this long after an attack ended resolves its incident")
	fs.DurationVar(&a.NodeSilence, "node-silence", 30*time.Second, "a node without heartbeat this long raises node_unreachable for the rules (0 turns it off)")
}

// Validate checks the durations.
func (a *Automation) Validate() error {
	if a.Correlation < 0 {
		return errorf("correlation-window: must not be negative")
	}
	if a.NodeSilence < 0 {
		return errorf("node-silence: must not be negative")
	}
	if a.ResolveAfter <= 0 {
		return errorf("resolve-after: must be positive, got %s", a.ResolveAfter)
	}
	return nil
}

// Notify configures how subscribers are told.
type Notify struct {
	SMTPURL        string
	MailFrom       string
	WebhookTimeout time.Duration
	SMTPConns      int
	Workers        int
	// Endpoints are the --integration-endpoint values, NAME=URL.
	Endpoints StringList
}

// Register adds the notification flags to fs.
func (n *Notify) Register(fs *flag.FlagSet) {
	fs.StringVar(&n.SMTPURL, "smtp-url", "", "where mails go: smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=require|off), smtps://user:pass@host:465 (implicit TLS); empty: mails wait in the outbox")
	fs.StringVar(&n.MailFrom, "mail-from", "", "sender address of mails for workspaces that set none (default: status@ the base URL's host)")
	fs.DurationVar(&n.WebhookTimeout, "webhook-timeout", 5*time.Second, "a webhook receiver must answer within this; otherwise the delivery is retried")
	fs.IntVar(&n.SMTPConns, "smtp-connections", 8, "SMTP connections kept open in parallel")
	fs.IntVar(&n.Workers, "delivery-workers", 128, "deliveries (webhooks and mails) in flight at once")
	fs.Var(&n.Endpoints, "integration-endpoint", "`NAME=URL`: send a tool's API requests to URL instead of the service (telegram, pagerduty, opsgenie; repeatable), for private installations and tests")
}

// Validate checks the notification settings.
func (n *Notify) Validate() error {
	if n.SMTPURL != "" {
		u, err := url.Parse(n.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return errorf("smtp-url: must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
		}
	}
	if n.MailFrom != "" {
		if a, err := mail.ParseAddress(n.MailFrom); err != nil || a.Name != "" {
			return errorf("mail-from: %q is not a plain email address", n.MailFrom)
		}
	}
	if n.WebhookTimeout <= 0 || n.WebhookTimeout > time.Minute {
		return errorf("webhook-timeout: must be between 0 and 1m, got %s", n.WebhookTimeout)
	}
	if n.SMTPConns < 1 || n.SMTPConns > 100 {
		return errorf("smtp-connections: must be from 1 to 100, got %d", n.SMTPConns)
	}
	if n.Workers < 1 || n.Workers > 4096 {
		return errorf("delivery-workers: must be from 1 to 4096, got %d", n.Workers)
	}
	return nil
}
