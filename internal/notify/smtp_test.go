package notify_test

import (
	"fmt"

	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"github.com/emersion/go-msgauth/dkim"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"
	"github.com/stormwatch/stormwatch/internal/notify"
)

// smtpServer is a real SMTP server (go-smtp) on loopback that requires
// AUTH PLAIN and records mails and connections.
type smtpServer struct {
	mu     sync.Mutex
	conns  map[string]bool // client addresses: a session restarts after STARTTLS, a connection does not
	tls    []bool
	mails  []string
	authed []string
	closed int // connections the server closed
}

func (s *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[string]bool{}
	}
	s.conns[c.Conn().RemoteAddr().String()] = true
	s.mu.Unlock()
	return &session{srv: s, conn: c}, nil
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// countingListener tells the backend when the server closes a connection.
type countingListener struct {
	net.Listener
	be *smtpServer
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, be: l.be}, nil
}

type countedConn struct {
	net.Conn
	be   *smtpServer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.be.mu.Lock()
		c.be.closed++
		c.be.mu.Unlock()
	})
	return c.Conn.Close()
}
func (s *session) Mail(string, *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, string(b))
	s.srv.tls = append(s.srv.tls, isTLS)
	s.srv.authed = append(s.srv.authed, s.user)
	s.srv.mu.Unlock()
	return nil
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func startSMTP(t *testing.T, implicit bool) (*smtpServer, string) {
	return startSMTPIdle(t, implicit, 0)
}

// startSMTPIdle starts the server closing connections idle for longer
// than idle (0: never), as real servers do after a few minutes.
func startSMTPIdle(t *testing.T, implicit bool, idle time.Duration) (*smtpServer, string) {
	t.Helper()
	be := &smtpServer{}
	s := smtp.NewServer(be)
	s.ReadTimeout = idle
	s.Domain = "mx.test"
	s.TLSConfig = selfSigned(t)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener = countingListener{Listener: raw, be: be}
	if implicit {
		ln = tls.NewListener(ln, s.TLSConfig)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return be, ln.Addr().String()
}

func TestMailerTLSAuthAndReuse(t *testing.T) {
	for _, tc := range []struct {
		name, scheme string
		implicit     bool
	}{
		{"STARTTLS required", "smtp://alerts:s3cret@%s?starttls=require&insecure=true", false},
		{"implicit TLS", "smtps://alerts:s3cret@%s?insecure=true", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, addr := startSMTP(t, tc.implicit)
			cfg, err := notify.ParseSMTPURL(strings.Replace(tc.scheme, "%s", addr, 1))
			if err != nil {
				t.Fatal(err)
			}
			m := notify.NewMailer(cfg, 2, 5*time.Second)
			defer m.Close()
			for i := range 6 {
				msg := &notify.Mail{From: "status@acme.test", FromName: "Acme Games", To: "ops@example.com",
					Subject: "[Investigating] DDoS attack detected", MessageID: "msg_" + string(rune('a'+i)) + "@acme.test",
					Unsubscribe: "https://status.acme.test/subscriptions/unsubscribe?s=sub_1&t=x", Text: "hello", HTML: "<p>hello</p>"}
				if err := m.Send(context.Background(), msg); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			be.mu.Lock()
			defer be.mu.Unlock()
			if len(be.mails) != 6 || len(be.conns) > 2 {
				t.Fatalf("%d mails over %d connections; want 6 over at most 2 (reused)", len(be.mails), len(be.conns))
			}
			for i := range be.mails {
				if !be.tls[i] || be.authed[i] != "alerts" {
					t.Errorf("mail %d: tls %v, user %q", i, be.tls[i], be.authed[i])
				}
			}
			for _, h := range []string{"List-Unsubscribe: <https://status.acme.test/subscriptions/unsubscribe?s=sub_1&t=x>",
				"List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Message-ID: <msg_a@acme.test>", "Content-Type: multipart/alternative"} {
				if !strings.Contains(strings.ReplaceAll(be.mails[0], "\r\n ", " "), h) { // unfold long headers
					t.Errorf("mail lacks %q:\n%s", h, be.mails[0])
				}
			}
		})
	}
}

func TestMailerWrongPasswordFails(t *testing.T) {
	_, addr := startSMTP(t, false)
	cfg, _ := notify.ParseSMTPURL("smtp://alerts:wrong@" + addr + "?insecure=true")
	m := notify.NewMailer(cfg, 1, 5*time.Second)
	defer m.Close()
	err := m.Send(context.Background(), &notify.Mail{From: "a@b.test", To: "c@d.test", Subject: "x", MessageID: "x@b.test", Text: "x", HTML: "x"})
	if err == nil {
		t.Fatal("a wrong password sent the mail")
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		ok   bool
	}{
		{"smtp://u:p@mail.example.com", 587, true},
		{"smtps://u:p@mail.example.com", 465, true},
		{"smtp://mail.example.com:2525?starttls=off", 2525, true},
		{"smtps://mail.example.com?starttls=off", 0, false},
		{"http://mail.example.com", 0, false},
		{"smtp://mail.example.com:99999", 0, false},
		{"smtp://mail.example.com?starttls=maybe", 0, false},
	} {
		c, err := notify.ParseSMTPURL(tc.in)
		if (err == nil) != tc.ok || (tc.ok && c.Port != tc.port) {
			t.Errorf("%s: %+v %v", tc.in, c, err)
		}
	}
}

// TestMailerSignsWithDKIM: a mail with a DKIM key arrives signed, and the
// signature verifies against the TXT record the dashboard tells the
// operator to publish (looked up here without DNS); a mail changed on the
// way fails.
func TestMailerSignsWithDKIM(t *testing.T) {
	be, addr := startSMTP(t, false)
	cfg, err := notify.ParseSMTPURL("smtp://alerts:s3cret@" + addr + "?starttls=require&insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMailer(cfg, 1, 5*time.Second)
	defer m.Close()
	pemKey, err := notify.NewDKIMKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := notify.ParseDKIMKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	record, err := notify.DKIMRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	msg := &notify.Mail{From: "status@acme.example", FromName: "Acme Games", To: "ops@example.com",
		Subject: "[Investigating] DDoS attack detected on US-East cluster — ünïcode", MessageID: "msg_1@acme.example",
		InReplyTo: "inc_1.sub_1@acme.example", Unsubscribe: "https://status.acme.example/subscriptions/unsubscribe?s=sub_1&t=x",
		Text: strings.Repeat("We are mitigating a UDP flood. ", 20), HTML: "<p>We are mitigating a UDP flood.</p>",
		DKIM: &notify.DKIM{Domain: "acme.example", Selector: "sw202611", Signer: key}}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	be.mu.Lock()
	raw := be.mails[0]
	be.mu.Unlock()
	lookup := func(domain string) ([]string, error) {
		if domain != "sw202611._domainkey.acme.example" {
			return nil, fmt.Errorf("no TXT at %s", domain)
		}
		return []string{record}, nil
	}
	verify := func(raw string) error {
		vs, err := dkim.VerifyWithOptions(strings.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil {
			return err
		}
		if len(vs) != 1 {
			return fmt.Errorf("%d signatures", len(vs))
		}
		if vs[0].Err != nil {
			return vs[0].Err
		}
		if vs[0].Domain != "acme.example" {
			return fmt.Errorf("signed for %s", vs[0].Domain)
		}
		return nil
	}
	if err := verify(raw); err != nil {
		t.Fatalf("the signature does not verify: %v\n%s", err, raw)
	}
	if err := verify(strings.Replace(raw, "mitigating", "ignoring", 1)); err == nil {
		t.Error("a changed body still verifies")
	}
}

// TestMailerRedialsIdleConnections: after the server closed the pooled
// connections for idleness, every mail still goes out on its first Send
// (the mailer redials within the attempt), over fresh connections.
func TestMailerRedialsIdleConnections(t *testing.T) {
	be, addr := startSMTPIdle(t, false, 300*time.Millisecond)
	cfg, err := notify.ParseSMTPURL("smtp://alerts:s3cret@" + addr + "?starttls=require&insecure=true")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMailer(cfg, 3, 5*time.Second)
	defer m.Close()
	send := func(round, n int) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				msg := &notify.Mail{From: "status@acme.test", To: "ops@example.com", Subject: "s",
					MessageID: fmt.Sprintf("r%d-%d@acme.test", round, i), Text: "x", HTML: "x"}
				if err := m.Send(context.Background(), msg); err != nil {
					errs <- fmt.Errorf("round %d mail %d: %w", round, i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	send(1, 6)
	for round := 2; round <= 3; round++ {
		// Wait until the server has hung up every pooled connection.
		deadline := time.Now().Add(10 * time.Second)
		for {
			be.mu.Lock()
			closed, opened := be.closed, len(be.conns)
			be.mu.Unlock()
			if closed >= opened {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server closed %d of %d idle connections", closed, opened)
			}
			time.Sleep(20 * time.Millisecond)
		}
		send(round, 6)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.mails) != 18 {
		t.Fatalf("%d mails arrived, want 18", len(be.mails))
	}
}
