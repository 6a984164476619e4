package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// WebhookSender posts signed webhook requests. Every connection it opens
// is checked against the Guard at dial time, with the address actually
// dialled, so that a name that resolved to a public address when the
// subscriber was made and to an internal one now (DNS rebinding) is
// refused. It never follows redirects or uses a proxy.
type WebhookSender struct {
	client *http.Client
}

// NewWebhookSender returns a sender whose requests give up after timeout.
func NewWebhookSender(g *Guard, timeout time.Duration) *WebhookSender {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			return g.dial(ctx, dialer, network, address)
		},
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
	}
	return &WebhookSender{client: &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Client is the guarded client, for the chat and on-call channels: the
// same dial-time checks, no redirects, no proxy.
func (s *WebhookSender) Client() *http.Client { return s.client }

// ErrBlocked says the webhook's address is internal and the operator did
// not allow private webhooks.
var ErrBlocked = errors.New("address is internal")

// dial resolves host itself and connects only to an allowed address.
func (g *Guard) dial(ctx context.Context, d *net.Dialer, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if !g.AllowPrivate && checkHostName(host) != nil {
		return nil, fmt.Errorf("%s is an IP address in an unusual form: %w", host, ErrBlocked)
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("look up %s: %w", host, err)
		}
	}
	var firstErr error
	for _, ip := range addrs {
		if err := g.CheckAddr(ip); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s resolves to %s: %w", host, ip.Unmap(), ErrBlocked)
			}
			continue
		}
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%s has no address", host)
	}
	return nil, firstErr
}

// WebhookResult is how a post went.
type WebhookResult struct {
	StatusCode int
	// Permanent says retrying cannot help (the address is internal).
	Permanent bool
	Err       error
}

// Send posts body to url as Standard Webhooks message id, signed with
// secret at time at. A 2xx answer is success; anything else is an error
// worth retrying.
func (s *WebhookSender) Send(ctx context.Context, url, id, secret string, at time.Time, body []byte) WebhookResult {
	sig, err := SignWebhook(secret, id, at, body)
	if err != nil {
		return WebhookResult{Permanent: true, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return WebhookResult{Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stormwatch-webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return WebhookResult{Permanent: errors.Is(err, ErrBlocked), Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return WebhookResult{StatusCode: resp.StatusCode, Err: fmt.Errorf("receiver answered %s", resp.Status)}
	}
	return WebhookResult{StatusCode: resp.StatusCode}
}
