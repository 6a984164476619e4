// Package probe runs one check once: an HTTP request, a TCP connect, an
// ICMP echo, a DNS query or a game server's UDP query, and says whether it
// passed, how long it took and, if not, why in words an operator can act
// on. Agents and the server run the same code.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Prober runs checks. The zero value reaches any address.
type Prober struct {
	// Allow, when set, vets every address a probe is about to reach (the
	// server refuses internal addresses to tenants' checks: SSRF).
	Allow func(netip.Addr) error
	// Resolver looks names up; nil is the system's.
	Resolver *net.Resolver
	// RootCAs verify HTTPS targets; nil is the system's roots.
	RootCAs *x509.CertPool
}

// Outcome is what one run found.
type Outcome struct {
	OK      bool
	Latency time.Duration
	Err     string
	Warning string
}

// Run runs check c once, within its timeout.
func (p *Prober) Run(ctx context.Context, c *sw.Check) Outcome {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.Timeout))
	defer cancel()
	start := time.Now()
	var warning string
	var err error
	switch c.Type {
	case sw.CheckHTTP:
		warning, err = p.http(ctx, c)
	case sw.CheckTCP:
		err = p.tcp(ctx, c)
	case sw.CheckICMP:
		err = p.icmp(ctx, c)
	case sw.CheckDNS:
		err = p.dns(ctx, c)
	case sw.CheckUDP:
		err = p.udp(ctx, c)
	default:
		err = fmt.Errorf("unknown check type %q", c.Type)
	}
	o := Outcome{OK: err == nil, Latency: time.Since(start), Warning: warning}
	if err != nil {
		o.Err = describe(ctx, err, time.Duration(c.Timeout))
	}
	return o
}

// describe turns an error into the words an operator reads: a timeout
// says so with its length instead of Go's nested wrapping.
func describe(ctx context.Context, err error, timeout time.Duration) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	}
	return err.Error()
}

func (p *Prober) dialer() *net.Dialer {
	d := &net.Dialer{Resolver: p.Resolver}
	if p.Allow != nil {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return p.Allow(ap.Addr().Unmap())
		}
	}
	return d
}

// maxBody bounds what a body match reads.
const maxBody = 1 << 20

func (p *Prober) http(ctx context.Context, c *sw.Check) (string, error) {
	ranges, err := sw.ParseStatusRanges(c.ExpectStatus)
	if err != nil {
		return "", err
	}
	tr := &http.Transport{DialContext: p.dialer().DialContext, DisableKeepAlives: true,
		TLSHandshakeTimeout: time.Duration(c.Timeout), ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: p.RootCAs}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.Target, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "stormwatch-check/1")
	res, err := client.Do(req)
	if err != nil {
		var cv *tls.CertificateVerificationError
		if errors.As(err, &cv) {
			return "", fmt.Errorf("TLS certificate not valid: %v", cv.Err)
		}
		return "", err
	}
	defer res.Body.Close()
	ok := false
	for _, r := range ranges {
		ok = ok || (res.StatusCode >= r.Lo && res.StatusCode <= r.Hi)
	}
	if !ok {
		return "", fmt.Errorf("HTTP %d, expected %s", res.StatusCode, c.ExpectStatus)
	}
	if c.BodyMatch != "" {
		body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
		if err != nil {
			return "", fmt.Errorf("reading the body: %w", err)
		}
		if !bytes.Contains(body, []byte(c.BodyMatch)) {
			return "", fmt.Errorf("the body does not contain %q", c.BodyMatch)
		}
	}
	if res.TLS != nil && len(res.TLS.PeerCertificates) > 0 {
		left := time.Until(res.TLS.PeerCertificates[0].NotAfter)
		if left < time.Duration(c.CertExpiry) {
			return fmt.Sprintf("TLS certificate expires in %d days (%s)", int(left.Hours()/24),
				res.TLS.PeerCertificates[0].NotAfter.UTC().Format(time.RFC3339)), nil
		}
	}
	return "", nil
}

func (p *Prober) tcp(ctx context.Context, c *sw.Check) error {
	conn, err := p.dialer().DialContext(ctx, "tcp", c.Target)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (p *Prober) udp(ctx context.Context, c *sw.Check) error {
	payload, err := sw.UDPPayload(c.Payload)
	if err != nil {
		return err
	}
	expect, _ := hex.DecodeString(c.Expect)
	conn, err := p.dialer().DialContext(ctx, "udp", c.Target)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(payload); err != nil {
		return err
	}
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if err := answers(c.Payload, buf[:n]); err != nil {
		return err
	}
	if !bytes.HasPrefix(buf[:n], expect) {
		return fmt.Errorf("the reply does not start with %s", c.Expect)
	}
	return nil
}

// answers checks that a reply is what the named query's server sends.
func answers(payload string, reply []byte) error {
	switch payload {
	case sw.PayloadA2S:
		// An info reply ('I') or a challenge ('A'), which newer servers
		// send first; either proves the game server's query loop runs.
		if len(reply) < 5 || !bytes.Equal(reply[:4], []byte{0xff, 0xff, 0xff, 0xff}) || (reply[4] != 'I' && reply[4] != 'A') {
			return fmt.Errorf("the reply is not an A2S_INFO answer")
		}
	case sw.PayloadMinecraft:
		if len(reply) < 1 || reply[0] != 0x1c {
			return fmt.Errorf("the reply is not a RakNet unconnected pong")
		}
	}
	return nil
}

// host returns the addresses a target host name stands for, vetted.
func (p *Prober) resolve(ctx context.Context, host string) (netip.Addr, error) {
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	var addr netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addr = a
	} else {
		addrs, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return netip.Addr{}, err
		}
		if len(addrs) == 0 {
			return netip.Addr{}, fmt.Errorf("%s has no address", host)
		}
		addr = addrs[0]
	}
	addr = addr.Unmap()
	if p.Allow != nil {
		if err := p.Allow(addr); err != nil {
			return netip.Addr{}, err
		}
	}
	return addr, nil
}

func (p *Prober) dns(ctx context.Context, c *sw.Check) error {
	server := c.Server
	if server == "" {
		server = systemResolver()
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return err
	}
	addr, err := p.resolve(ctx, host)
	if err != nil {
		return err
	}
	answers, err := query(ctx, net.JoinHostPort(addr.String(), port), c.Target, c.Record)
	if err != nil {
		return err
	}
	if len(answers) == 0 {
		return fmt.Errorf("no %s record for %s", c.Record, c.Target)
	}
	if c.Expect == "" {
		return nil
	}
	want := strings.TrimSuffix(strings.ToLower(c.Expect), ".")
	for _, a := range answers {
		if strings.TrimSuffix(strings.ToLower(a), ".") == want {
			return nil
		}
	}
	return fmt.Errorf("%s %s answered %s, expected %s", c.Target, c.Record, strings.Join(answers, ", "), c.Expect)
}
