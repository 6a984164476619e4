// Package smtptest runs a real SMTP server (go-smtp) on loopback for
// tests, keeping every mail it is sent.
package smtptest

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mail is one message as the server received it, for one recipient.
type Mail struct {
	To, Data string
}

// Inbox is the server's store of received mails.
type Inbox struct {
	mu    sync.Mutex
	mails []Mail
}

// Start serves SMTP on a free loopback port until the test ends and
// returns the inbox and the server's address.
func Start(t testing.TB) (*Inbox, string) { return StartOn(t, "127.0.0.1:0") }

// StartOn is Start on a given address (to bring a server back on the
// port it had).
func StartOn(t testing.TB, addr string) (*Inbox, string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	in := &Inbox{}
	s := smtp.NewServer(in)
	s.Domain = "inbox.test"
	s.AllowInsecureAuth = true
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return in, ln.Addr().String()
}

// NewSession implements smtp.Backend.
func (in *Inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{in: in}, nil }

// Received returns the mails so far.
func (in *Inbox) Received() []Mail {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Mail(nil), in.mails...)
}

type session struct {
	in *Inbox
	to []string
}

func (s *session) Reset()                               { s.to = nil }
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	for _, to := range s.to {
		s.in.mails = append(s.in.mails, Mail{To: to, Data: string(b)})
	}
	return err
}
