package config

import (
	"flag"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"
)

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// TLS configures automatic HTTPS and custom domains.
type TLS struct {
	Enabled   bool
	HTTPAddr  string
	HTTPSAddr string
	ACMECA    string
	ACMEEmail string
	ACMERoot  string
	HSTS      time.Duration
	// CNAMETarget is where custom domains point (default: the base URL's
	// host).
	CNAMETarget    string
	DNSResolver    string
	DomainCheck    time.Duration
	IssuePerMinute int
}

// Register adds the TLS and custom domain flags to fs.
func (t *TLS) Register(fs *flag.FlagSet) {
	fs.BoolVar(&t.Enabled, "tls", false, "serve HTTPS with certificates obtained by ACME for the base host, verified custom domains and {slug}.<pages-domain>")
	fs.StringVar(&t.HTTPAddr, "http-addr", ":80", "`host:port` for ACME HTTP-01 challenges and the redirect to HTTPS (with --tls)")
	fs.StringVar(&t.HTTPSAddr, "https-addr", ":443", "`host:port` to serve HTTPS on (with --tls)")
	fs.StringVar(&t.ACMECA, "acme-ca", LetsEncrypt, "ACME directory `URL` of the certificate authority")
	fs.StringVar(&t.ACMEEmail, "acme-email", "", "contact `address` for the ACME account (expiry warnings)")
	fs.StringVar(&t.ACMERoot, "acme-ca-root", "", "PEM `file` of roots to trust when talking to the CA (a private CA; default: the system's)")
	fs.DurationVar(&t.HSTS, "hsts", 0, "send Strict-Transport-Security with this max-age over HTTPS (0: none)")
	fs.StringVar(&t.CNAMETarget, "cname-target", "", "`host` that custom domains point their CNAME at (default: the base URL's host)")
	fs.StringVar(&t.DNSResolver, "dns-resolver", "", "`host:port` of the DNS server that checks custom domains (default: the system's)")
	fs.DurationVar(&t.DomainCheck, "domain-check-interval", time.Minute, "how often unverified custom domains are checked again")
	fs.IntVar(&t.IssuePerMinute, "acme-issue-per-minute", 10, "most new certificates a replica asks for per minute")
}

// Validate checks the addresses and URLs.
func (t *TLS) Validate() error {
	if t.DNSResolver != "" {
		if _, _, err := net.SplitHostPort(t.DNSResolver); err != nil {
			return errorf("dns-resolver: %q is not host:port", t.DNSResolver)
		}
	}
	if t.DomainCheck <= 0 {
		return errorf("domain-check-interval: must be positive, got %s", t.DomainCheck)
	}
	if !t.Enabled {
		return nil
	}
	for name, addr := range map[string]string{"http-addr": t.HTTPAddr, "https-addr": t.HTTPSAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil {
			return errorf("%s: %q is not host:port", name, addr)
		} else if _, err := strconv.Atoi(port); err != nil {
			return errorf("%s: %q has no numeric port", name, addr)
		}
	}
	if u, err := url.Parse(t.ACMECA); err != nil || u.Scheme != "https" || u.Host == "" {
		return errorf("acme-ca: %q is not an https URL", t.ACMECA)
	}
	if t.ACMERoot != "" {
		if _, err := os.Stat(t.ACMERoot); err != nil {
			return errorf("acme-ca-root: %v", err)
		}
	}
	if t.HSTS < 0 {
		return errorf("hsts: must not be negative")
	}
	if t.IssuePerMinute <= 0 {
		return errorf("acme-issue-per-minute: must be positive")
	}
	return nil
}
