package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// person is someone with a browser's cookie jar, posting the dashboard's
// forms over HTTP.
type person struct {
	t    *testing.T
	c    *http.Client
	csrf string
}

func newPerson(t *testing.T) *person {
	jar, _ := cookiejar.New(nil)
	return &person{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p *person) answer(res *http.Response, err error) (int, string, string) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfInput.FindSubmatch(body); m != nil {
		p.csrf = string(m[1])
	}
	return res.StatusCode, string(body), res.Header.Get("Location")
}

func (p *person) get(u string) (int, string) {
	p.t.Helper()
	code, body, _ := p.answer(p.c.Get(u))
	return code, body
}

func (p *person) post(u string, v url.Values) (int, string, string) {
	p.t.Helper()
	if p.csrf != "" && !v.Has("csrf") {
		v.Set("csrf", p.csrf)
	}
	return p.answer(p.c.PostForm(u, v))
}

// TestAccountMails: invitations and password resets travel by real mail
// (mailpit) and their links work once.
func TestAccountMails(t *testing.T) {
	mp := startMailpit(t)
	s := startServe(t, "--data-dir", t.TempDir(), "--base-url", "http://127.0.0.1:0", "--smtp-url", "smtp://"+mp.smtp, "--mail-from", "status@acme.test")
	setup, _ := url.Parse(s.await(t, setupURL))
	owner := newPerson(t)
	code, _, _ := owner.post(s.url+"/admin/setup", url.Values{"token": {setup.Query().Get("token")}, "email": {"owner@example.com"},
		"password": {"first password"}, "password2": {"first password"}, "workspace": {"Acme Games"}, "slug": {"acme"}})
	if code != http.StatusSeeOther {
		t.Fatalf("setup answered %d", code)
	}

	// An invitation arrives by mail; its link makes an account and a member.
	owner.get(s.url + "/admin/w/acme/members")
	if code, body, _ := owner.post(s.url+"/admin/w/acme/members/invite", url.Values{"email": {"erin@example.com"}, "role": {"editor"}}); code != 200 ||
		!strings.Contains(body, "We mailed it to erin@example.com") {
		t.Fatalf("invite answered %d:\n%s", code, body)
	}
	text, _ := mp.await(t, "erin@example.com", "You are invited to Acme Games on stormwatch")
	invite := linkRE.FindString(text)
	if !strings.HasPrefix(invite, s.url+"/admin/invite/swl_") {
		t.Fatalf("invitation mail:\n%s", text)
	}
	erin := newPerson(t)
	if code, body := erin.get(invite); code != 200 || !strings.Contains(body, "as <strong>editor</strong>") {
		t.Fatalf("invitation page %d:\n%s", code, body)
	}
	if code, _, loc := erin.post(invite, url.Values{"name": {"Erin"}, "password": {"erin's password"}, "password2": {"erin's password"}}); code != http.StatusSeeOther || loc != "/admin/w/acme/" {
		t.Fatalf("accepting answered %d to %q", code, loc)
	}
	if code, body := erin.get(s.url + "/admin/w/acme/members"); code != 200 || !strings.Contains(body, "erin@example.com") {
		t.Errorf("members page for Erin: %d", code)
	}

	// A forgotten password: the same answer for any address, a mail only
	// for the real one, and the link works once.
	before := mp.total(t)
	anon := newPerson(t)
	for _, email := range []string{"nobody@example.com", "owner@example.com"} {
		if code, body, _ := anon.post(s.url+"/admin/reset", url.Values{"email": {email}}); code != 200 || !strings.Contains(body, "is on its way") {
			t.Fatalf("reset for %s answered %d", email, code)
		}
	}
	text, _ = mp.await(t, "owner@example.com", "Reset your stormwatch password")
	if got := mp.total(t); got != before+1 {
		t.Errorf("%d mails sent for two reset requests, want 1", got-before)
	}
	reset := linkRE.FindString(text)
	if code, _ := anon.get(reset); code != 200 {
		t.Fatalf("reset page answered %d", code)
	}
	if code, _, loc := anon.post(reset, url.Values{"password": {"second password"}, "password2": {"second password"}}); code != http.StatusSeeOther || loc != "/admin/" {
		t.Fatalf("new password answered %d to %q", code, loc)
	}
	if code, _, _ := newPerson(t).post(reset, url.Values{"password": {"third password"}, "password2": {"third password"}}); code != http.StatusForbidden {
		t.Errorf("a reset link worked twice: %d", code)
	}
	// The old session was signed out; the old password no longer works.
	if code, _ := owner.get(s.url + "/admin/w/acme/"); code != http.StatusSeeOther {
		t.Errorf("the session from before the reset still works: %d", code)
	}
	if code, _, _ := newPerson(t).post(s.url+"/admin/login", url.Values{"email": {"owner@example.com"}, "password": {"first password"}}); code != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: %d", code)
	}
	if code, _, loc := newPerson(t).post(s.url+"/admin/login", url.Values{"email": {"owner@example.com"}, "password": {"second password"}}); code != http.StatusSeeOther || loc != "/admin/" {
		t.Errorf("the new password does not sign in: %d %q", code, loc)
	}
}
