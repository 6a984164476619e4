// Package autotls serves status pages over HTTPS with certificates from
// an ACME CA (Let's Encrypt, or any other), obtained on demand at the
// first handshake for names that are ours: the base host, a verified
// custom domain, or {slug}.<pages-domain> of an existing workspace.
// Certificates, keys, the ACME account and the locks that keep replicas
// from issuing twice live in the database (see Storage).
package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Config is what the certificate manager needs.
type Config struct {
	Store *store.Store
	Log   *slog.Logger
	// CA is the ACME directory URL; Email the account's contact.
	CA    string
	Email string
	// CARoots, when set, are the roots trusted when talking to the CA (a
	// private CA, or Pebble in tests); nil trusts the system's.
	CARoots *x509.CertPool
	// HTTPPort and TLSPort are the ports this server answers HTTP-01 and
	// TLS-ALPN-01 challenges on (80 and 443 unless behind a port map).
	HTTPPort, TLSPort int
	// BaseHost is the installation's own host name; PagesDomain, when
	// set, gives each workspace {slug}.<PagesDomain>.
	BaseHost    string
	PagesDomain string
	// IssuePerMinute bounds new certificates per replica, against a flood
	// of names (default 10).
	IssuePerMinute int
	Now            func() time.Time
	// OnCertificate hears every certificate obtained or failed, new or
	// renewed (metrics); it may be nil.
	OnCertificate func(obtained, renewal bool)
	// OnFailure hears the host name of every certificate that could not
	// be obtained or renewed, with why (operators' notices); it may be
	// nil.
	OnFailure func(host, reason string)
}

// Manager obtains, renews and serves certificates.
type Manager struct {
	c      Config
	cache  *certmagic.Cache
	magic  *certmagic.Config
	issuer *certmagic.ACMEIssuer
	rate   *ratelimit.Window
}

// ErrNotOurs refuses a certificate for a name this installation does not
// serve.
var ErrNotOurs = errors.New("not a name this installation serves")

// New builds the manager; Stop ends its renewals.
func New(c Config) (*Manager, error) {
	if c.IssuePerMinute <= 0 {
		c.IssuePerMinute = 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	m := &Manager{c: c, rate: ratelimit.New(c.IssuePerMinute, time.Minute)}
	zl := zapLogger(c.Log)
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return m.magic, nil },
		Logger:           zl,
	})
	m.magic = certmagic.New(m.cache, certmagic.Config{
		Storage:  NewStorage(c.Store),
		OnDemand: &certmagic.OnDemandConfig{DecisionFunc: m.decide},
		Logger:   zl,
		OnEvent: func(_ context.Context, event string, data map[string]any) error {
			if c.OnCertificate != nil && (event == "cert_obtained" || event == "cert_failed") {
				renewal, _ := data["renewal"].(bool)
				c.OnCertificate(event == "cert_obtained", renewal)
			}
			if c.OnFailure != nil && event == "cert_failed" {
				host, _ := data["identifier"].(string)
				reason := "the certificate authority refused it"
				if err, ok := data["error"].(error); ok {
					reason = err.Error()
				}
				c.OnFailure(host, reason)
			}
			return nil
		},
	})
	m.issuer = certmagic.NewACMEIssuer(m.magic, certmagic.ACMEIssuer{
		CA: c.CA, Email: c.Email, Agreed: true, TrustedRoots: c.CARoots,
		// This server answers the challenges on its own listeners; the
		// ports tell certmagic not to open listeners of its own.
		AltHTTPPort: c.HTTPPort, AltTLSALPNPort: c.TLSPort,
		Logger: zl,
	})
	m.magic.Issuers = []certmagic.Issuer{m.issuer}
	return m, nil
}

// Stop ends the background renewals.
func (m *Manager) Stop() { m.cache.Stop() }

// Serves reports whether name is one of ours now: the base host, a
// verified custom domain, or an existing workspace's subdomain.
func (m *Manager) Serves(ctx context.Context, name string) (bool, error) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" {
		return false, nil
	}
	if name == m.c.BaseHost {
		return true, nil
	}
	if _, err := m.c.Store.WorkspaceIDByDomain(ctx, name); err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if m.c.PagesDomain != "" {
		if slug, ok := strings.CutSuffix(name, "."+m.c.PagesDomain); ok && !strings.Contains(slug, ".") {
			if _, err := m.c.Store.WorkspaceBySlug(ctx, slug); err == nil {
				return true, nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
		}
	}
	return false, nil
}

// decide is certmagic's on-demand gate: only our names, and not too many
// new ones a minute.
func (m *Manager) decide(ctx context.Context, name string) error {
	ok, err := m.Serves(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", name, ErrNotOurs)
	}
	if !m.rate.Allow("issue", m.c.Now()) {
		return fmt.Errorf("%s: more than %d new certificates a minute; try again shortly", name, m.c.IssuePerMinute)
	}
	return nil
}

// TLSConfig is the HTTPS listener's configuration: certificates on
// demand, TLS-ALPN-01 challenges answered, and every handshake for a
// name that is no longer ours (a removed domain) refused at once.
func (m *Manager) TLSConfig() *tls.Config {
	cfg := m.magic.TLSConfig()
	get := cfg.GetCertificate
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "" {
			return nil, errors.New("no server name (SNI) in the handshake")
		}
		isChallenge := len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == "acme-tls/1"
		if !isChallenge {
			ok, err := m.Serves(hello.Context(), hello.ServerName)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%s: %w", hello.ServerName, ErrNotOurs)
			}
		}
		return get(hello)
	}
	cfg.NextProtos = append([]string{"h2", "http/1.1"}, cfg.NextProtos...)
	cfg.MinVersion = tls.VersionTLS12
	return cfg
}

// HTTPHandler answers the plain-HTTP listener: ACME HTTP-01 challenges,
// the health checks, and a permanent redirect to HTTPS for the rest.
func (m *Manager) HTTPHandler(health http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.issuer.HandleHTTPChallenge(w, r) {
			return
		}
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			health.ServeHTTP(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if m.c.TLSPort != 443 && m.c.TLSPort != 0 {
			host = net.JoinHostPort(host, strconv.Itoa(m.c.TLSPort))
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// HSTS adds Strict-Transport-Security to every HTTPS answer.
func HSTS(maxAge time.Duration, next http.Handler) http.Handler {
	if maxAge <= 0 {
		return next
	}
	value := "max-age=" + strconv.Itoa(int(maxAge.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", value)
		next.ServeHTTP(w, r)
	})
}

// Certificate describes the certificate stored for a name, if any.
type Certificate struct {
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// StoredCertificate finds the certificate stored for name (by any
// issuer), for the dashboard; ok false when none was obtained yet.
func StoredCertificate(ctx context.Context, st *store.Store, name string) (Certificate, bool, error) {
	keys, err := st.TLSKeys(ctx, "certificates")
	if err != nil {
		return Certificate{}, false, err
	}
	suffix := "/" + name + "/" + name + ".crt"
	for _, k := range keys {
		if !strings.HasSuffix(k, suffix) {
			continue
		}
		o, err := st.TLS(ctx, k)
		if err != nil {
			return Certificate{}, false, err
		}
		certs, err := parsePEMCerts(o.Value)
		if err != nil || len(certs) == 0 {
			return Certificate{}, false, fmt.Errorf("stored certificate %s: %v", k, err)
		}
		return Certificate{Issuer: certs[0].Issuer.CommonName, NotAfter: certs[0].NotAfter}, true, nil
	}
	return Certificate{}, false, nil
}
