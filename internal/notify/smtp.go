package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
)

// SMTPConfig is where mail goes, parsed from --smtp-url:
// smtp://user:pass@host:587 (STARTTLS when the server offers it;
// ?starttls=require insists, ?starttls=off never tries) or
// smtps://user:pass@host:465 (implicit TLS). ?insecure=true skips
// certificate checks (a local relay with a self-signed certificate).
type SMTPConfig struct {
	Host, Username, Password string
	Port                     int
	ImplicitTLS              bool
	Policy                   mail.TLSPolicy
	Insecure                 bool
}

// ParseSMTPURL parses an --smtp-url value.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return SMTPConfig{}, errors.New("must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
	}
	c := SMTPConfig{Host: u.Hostname(), Policy: mail.TLSOpportunistic}
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.ImplicitTLS, c.Policy = 465, true, mail.TLSMandatory
	default:
		return SMTPConfig{}, fmt.Errorf("scheme %q: must be smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return SMTPConfig{}, fmt.Errorf("port %q is not a port number", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	switch q.Get("starttls") {
	case "", "opportunistic":
	case "require", "required":
		c.Policy = mail.TLSMandatory
	case "off", "none":
		if c.ImplicitTLS {
			return SMTPConfig{}, errors.New("starttls=off makes no sense with smtps (TLS from the first byte)")
		}
		c.Policy = mail.NoTLS
	default:
		return SMTPConfig{}, fmt.Errorf("starttls=%q: must be opportunistic, require or off", q.Get("starttls"))
	}
	c.Insecure = q.Get("insecure") == "true"
	return c, nil
}

// Mailer sends mails over a few long-lived SMTP connections, reconnecting
// when one breaks. It is safe for concurrent use.
type Mailer struct {
	cfg     SMTPConfig
	timeout time.Duration
	pool    chan *smtpConn
}

type smtpConn struct {
	client    *mail.Client
	connected bool
}

// NewMailer returns a mailer that keeps up to conns connections open.
func NewMailer(cfg SMTPConfig, conns int, timeout time.Duration) *Mailer {
	m := &Mailer{cfg: cfg, timeout: timeout, pool: make(chan *smtpConn, conns)}
	for range conns {
		m.pool <- &smtpConn{}
	}
	return m
}

func (m *Mailer) newClient() (*mail.Client, error) {
	opts := []mail.Option{mail.WithTimeout(m.timeout), mail.WithTLSPolicy(m.cfg.Policy),
		mail.WithTLSConfig(&tls.Config{ServerName: m.cfg.Host, InsecureSkipVerify: m.cfg.Insecure, MinVersion: tls.VersionTLS12})}
	if m.cfg.ImplicitTLS {
		opts = append(opts, mail.WithSSL())
	}
	opts = append(opts, mail.WithPort(m.cfg.Port)) // last: the TLS options pick default ports
	if m.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	return mail.NewClient(m.cfg.Host, opts...)
}

// Send delivers one message, reusing an open connection when it can.
func (m *Mailer) Send(ctx context.Context, msg *Mail) error {
	out, err := msg.build()
	if err != nil {
		return err
	}
	var c *smtpConn
	select {
	case c = <-m.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { m.pool <- c }()
	for try := 0; try < 2; try++ {
		if !c.connected {
			if c.client == nil {
				if c.client, err = m.newClient(); err != nil {
					return err
				}
			}
			if err = c.client.DialWithContext(ctx); err != nil {
				return fmt.Errorf("connect to %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
			}
			c.connected = true
		}
		if err = c.client.Send(out); err == nil {
			return nil
		}
		// A connection the server closed while idle fails on first use
		// (go-mail reports it as a failed connection check, not as a
		// temporary error); a fresh connection is worth a second try.
		_ = c.client.Close()
		c.connected = false
		if refused(err) {
			return err // the server refused this mail: a new connection will not change its mind
		}
	}
	return err
}

// refused reports whether the server answered with a permanent (5xx)
// refusal, as opposed to a broken or closed connection.
func refused(err error) bool {
	var se *mail.SendError
	return errors.As(err, &se) && se.Reason != mail.ErrConnCheck && se.ErrorCode() >= 500
}

// Close closes the open connections.
func (m *Mailer) Close() {
	var wg sync.WaitGroup
	for range cap(m.pool) {
		c := <-m.pool
		if c.connected {
			wg.Go(func() { _ = c.client.Close() })
		}
	}
	wg.Wait()
}

// build turns the rendered mail into go-mail's message.
func (msg *Mail) build() (*mail.Msg, error) {
	out := mail.NewMsg()
	if err := out.FromFormat(msg.FromName, msg.From); err != nil {
		return nil, fmt.Errorf("from address %q: %w", msg.From, err)
	}
	if err := out.To(msg.To); err != nil {
		return nil, fmt.Errorf("to address %q: %w", msg.To, err)
	}
	out.Subject(msg.Subject)
	out.SetMessageIDWithValue(msg.MessageID)
	out.SetDate()
	if msg.InReplyTo != "" {
		out.SetGenHeader(mail.HeaderInReplyTo, "<"+msg.InReplyTo+">")
		out.SetGenHeader(mail.HeaderReferences, "<"+msg.InReplyTo+">")
	}
	if msg.Unsubscribe != "" {
		out.SetGenHeader("List-Unsubscribe", "<"+msg.Unsubscribe+">")
		out.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	if msg.ListID != "" {
		out.SetGenHeader("List-Id", "<"+msg.ListID+">")
	}
	out.SetGenHeader("Auto-Submitted", "auto-generated")
	out.SetBodyString(mail.TypeTextPlain, msg.Text)
	out.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	if msg.DKIM != nil {
		if err := signDKIM(out, msg.DKIM); err != nil {
			return nil, err
		}
	}
	return out, nil
}
