package dashboard_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/dashboard"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/smtptest"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// mailSite is a dashboard that mails through smtpAddr and trusts the
// loopback proxy in front, so that requests can come from many clients.
func mailSite(t *testing.T, st *store.Store, smtpAddr string) *site {
	t.Helper()
	cfg, err := notify.ParseSMTPURL("smtp://" + smtpAddr + "?starttls=off")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMailer(cfg, 2, 2*time.Second)
	t.Cleanup(m.Close)
	d, err := dashboard.New(dashboard.Deps{Store: st, Log: slog.New(slog.DiscardHandler), BaseURL: "http://status.test",
		Key: []byte("test key"), Passwords: cheap, Mailer: m, MailFrom: "status@status.test",
		Clients: ratelimit.Clients{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return &site{t: t, st: st, d: d, srv: srv}
}

// askReset posts the reset form as client address from and returns the
// status and the page.
func askReset(s *site, email, from string) (int, string) {
	s.t.Helper()
	b := s.browser()
	b.get("/admin/reset")
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/reset", strings.NewReader(url.Values{"email": {email}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", from)
	code, body, _ := b.do(req)
	return code, body
}

// TestResetMailsAreCappedPerAccount: one mailbox gets at most three reset
// mails an hour however many client addresses ask; the answers stay the
// same as for an unknown address.
func TestResetMailsAreCappedPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		in, addr := smtptest.Start(t)
		s := mailSite(t, st, addr)
		s.setUp()
		_, unknown := askReset(s, "nobody@example.com", "192.0.2.250")
		for i := range 13 {
			code, body := askReset(s, "owner@example.com", "192.0.2."+string(rune('1'+i%3)))
			if code != http.StatusOK || stripCSRF(body) != stripCSRF(unknown) {
				t.Fatalf("request %d answered %d, not as for an unknown address:\n%s", i, code, body)
			}
		}
		if n := len(in.Received()); n != 3 {
			t.Fatalf("%d reset mails reached the mailbox, want 3", n)
		}
	})
}

// TestResetAnswersTheSameWithSMTPDown: with the SMTP server gone, a known
// address gets the answer an unknown one gets.
func TestResetAnswersTheSameWithSMTPDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := mailSite(t, st, "127.0.0.1:1") // nothing listens there
		s.setUp()
		codeU, unknown := askReset(s, "nobody@example.com", "192.0.2.1")
		codeK, known := askReset(s, "owner@example.com", "192.0.2.2")
		if codeU != codeK || stripCSRF(unknown) != stripCSRF(known) {
			t.Fatalf("unknown address: %d, known address: %d; pages differ:\n%s\n---\n%s", codeU, codeK, unknown, known)
		}
	})
}

func stripCSRF(body string) string { return csrfField.ReplaceAllString(body, "") }
