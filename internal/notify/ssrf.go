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

// Prefixes of IPv6 forms that carry an IPv4 address inside: the address
// reached is (or may be, through a translator) the IPv4 one, so that is
// the one to judge.
var (
	v4Compatible = netip.MustParsePrefix("::/96")           // ::127.0.0.1 (deprecated)
	v4Translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT: ::ffff:0:7f00:1
	nat64        = netip.MustParsePrefix("64:ff9b::/96")    // NAT64: 64:ff9b::7f00:1
	sixToFour    = netip.MustParsePrefix("2002::/16")       // 6to4: 2002:7f00:1::
)

// embeddedV4 returns the IPv4 address an IPv6 address carries in one of
// the forms above.
func embeddedV4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case !addr.Is6():
		return netip.Addr{}, false
	case v4Compatible.Contains(addr), v4Translated.Contains(addr), nat64.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// Public reports whether addr is a public unicast address.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if v4, ok := embeddedV4(addr); ok {
		return Public(v4)
	}
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
	if err := checkHostName(host); err != nil {
		return err
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

// checkHostName refuses hosts that are no name: what is not a dotted-quad
// IPv4 or an IPv6 literal yet ends in a numeric label (2130706433,
// 127.1, 0177.0.0.1) or a hex one (0x7f000001) is an IP address in a form
// some resolvers (inet_aton) accept and read as loopback or internal. No
// real top-level domain is numeric.
func checkHostName(host string) error {
	last := host[strings.LastIndexByte(host, '.')+1:]
	numeric := last != ""
	for _, c := range last {
		if c < '0' || c > '9' {
			numeric = false
		}
	}
	if numeric || strings.HasPrefix(strings.ToLower(last), "0x") {
		return sw.Invalid("url", "host %q is an IP address in an unusual form; write a host name or a plain address such as 192.0.2.1", host)
	}
	return nil
}
