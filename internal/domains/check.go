// Package domains decides whether a workspace controls a custom domain:
// the domain's CNAME points at the installation's target, or (for apex
// domains and CDNs that flatten CNAMEs) a TXT record holds the domain's
// token. Only verified domains are served and get certificates.
package domains

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
)

// TXTPrefix names the TXT record of the token fallback:
// _stormwatch.<hostname>.
const TXTPrefix = "_stormwatch."

// Checker checks domains against DNS.
type Checker struct {
	Resolver *net.Resolver
	// Target is the host every custom domain's CNAME must point at.
	Target string
	// Key derives each domain's TXT token, so no token is stored.
	Key []byte
}

// NewResolver returns a resolver that asks the DNS server at addr
// (host:port), or the system's resolver when addr is empty.
func NewResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Token is the TXT record value that proves control of domain id.
func (c *Checker) Token(domainID string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte("domain-verification\x00" + domainID))
	return "stormwatch-verify=" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:20]))
}

// Result is what a check found: By says how the domain is verified
// ("cname" or "txt"), else Problem says what is missing.
type Result struct {
	By      string
	Problem string
	// Unverified says a verified domain failed for store.DomainGrace and
	// is served no more.
	Unverified bool
}

// lookup is what DNS said about a domain.
type lookup struct {
	canonical       string // where its CNAME chain ends ("" on error)
	cnameErr        error
	targetCanonical string // where the target's own chain ends
	txt             []string
	txtErr          error
}

// judge decides from what DNS said; it is pure.
func judge(host, target, token string, l lookup) Result {
	norm := func(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }
	canon := norm(l.canonical)
	if l.cnameErr == nil && canon != "" && canon != host && (canon == norm(target) || (l.targetCanonical != "" && canon == norm(l.targetCanonical))) {
		return Result{By: "cname"}
	}
	if l.txtErr == nil && slices.Contains(l.txt, token) {
		return Result{By: "txt"}
	}
	var problem string
	switch {
	case l.cnameErr != nil && isNotFound(l.cnameErr):
		problem = fmt.Sprintf("%s has no DNS record yet; create a CNAME to %s", host, target)
	case l.cnameErr != nil:
		problem = fmt.Sprintf("DNS lookup of %s failed: %v", host, l.cnameErr)
	case canon == host:
		problem = fmt.Sprintf("%s has no CNAME record (an address record instead); point a CNAME at %s, or add the TXT record", host, target)
	default:
		problem = fmt.Sprintf("%s points at %s, not at %s", host, canon, target)
	}
	if len(l.txt) > 0 {
		problem += fmt.Sprintf("; TXT %s%s does not hold the token", TXTPrefix, host)
	}
	return Result{Problem: problem}
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// Check looks host up and judges it; id is the domain's id (its token).
func (c *Checker) Check(ctx context.Context, id, host string) Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var l lookup
	l.canonical, l.cnameErr = c.Resolver.LookupCNAME(ctx, host)
	if l.cnameErr == nil {
		// The target may itself be an alias (of a load balancer): its
		// own chain's end counts as the target too.
		l.targetCanonical, _ = c.Resolver.LookupCNAME(ctx, c.Target)
	}
	l.txt, l.txtErr = c.Resolver.LookupTXT(ctx, TXTPrefix+host)
	return judge(host, c.Target, c.Token(id), l)
}

// CheckAndRecord checks workspace ws's domain d and stores the outcome.
func (c *Checker) CheckAndRecord(ctx context.Context, st *store.Store, d *store.Domain) (Result, error) {
	res := c.Check(ctx, d.ID, d.Hostname)
	err := st.Tx(ctx, func(tx *store.Tx) error {
		var err error
		res.Unverified, err = tx.RecordDomainCheck(ctx, d.WorkspaceID, d.ID, res.By, res.Problem)
		return err
	})
	return res, err
}

// recheck is how often verified domains are checked again.
const recheck = 6 * time.Hour

// Run checks unverified domains every interval until ctx ends, so that a
// domain goes live soon after its DNS record appears without anyone
// pressing a button, and verified ones every 6 hours, so that a domain
// whose DNS left for good (store.DomainGrace) stops being served.
func (c *Checker) Run(ctx context.Context, st *store.Store, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		now := time.Now()
		due, err := st.DomainsToCheck(ctx, now.Add(-interval), now.Add(-recheck), 100)
		if err != nil && ctx.Err() == nil {
			log.Error("list domains to check", "err", err)
		}
		for _, d := range due {
			res, err := c.CheckAndRecord(ctx, st, &d)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("record domain check", "domain", d.Hostname, "err", err)
			case res.Unverified:
				log.Warn("custom domain no longer served: its DNS check failed too long", "domain", d.Hostname, "problem", res.Problem)
			case res.By != "" && !d.Verified:
				log.Info("custom domain verified", "domain", d.Hostname, "by", res.By)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
