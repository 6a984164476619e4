// Package notify tells subscribers about incidents and maintenance. This
// file keeps webhooks from being turned against the operator's own
// network (SSRF): a webhook may only reach public addresses, unless the
// operator allows private ones (tests, the demo, closed networks).
package notify

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"

	sw "github.com/stormwatch/stormwatch"
)

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which webhook URLs and addresses are allowed.
type Guard struct {
	AllowPrivate bool
	Resolver     Resolver
}

// internalRanges are the networks a webhook must not reach: loopback,
// private, shared (CGNAT), link-local, multicast, reserved,
// documentation and benchmarking ranges, in both families.
var internalRanges = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public reports whether addr is a public unicast address.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range internalRanges {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// CheckAddr refuses an internal address unless private ones are allowed.
func (g *Guard) CheckAddr(addr netip.Addr) error {
	if g.AllowPrivate || Public(addr) {
		return nil
	}
	return sw.Invalid("url", "points to the internal address %s; webhooks may only reach public addresses", addr)
}

// CheckURL validates a webhook URL: absolute http(s), no credentials, and
// a host that is, or resolves only to, public addresses. A name that does
// not resolve now is accepted: each delivery checks the addresses it
// connects to again, which also defeats DNS rebinding.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if len(raw) > 2048 {
		return sw.Invalid("url", "must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return sw.Invalid("url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return sw.Invalid("url", "must not carry credentials; use the signing secret")
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		return g.CheckAddr(addr)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return g.CheckAddr(netip.MustParseAddr("127.0.0.1"))
	}
	if g.AllowPrivate {
		return nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // unknown now; checked again at delivery
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return sw.Invalid("url", "%s resolves to the internal address %s; webhooks may only reach public addresses", host, a.Unmap())
		}
	}
	return nil
}
