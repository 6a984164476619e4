package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mailpitOnce sync.Once
	mailpitBin  string
	mailpitErr  error
)

// mailpit is a real SMTP server process (pinned in go.mod's tool block)
// with an HTTP API to read what it received.
type mailpit struct {
	smtp, api string
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startMailpit(t *testing.T) *mailpit {
	t.Helper()
	mailpitOnce.Do(func() {
		mailpitBin = filepath.Join(filepath.Dir(binary), "mailpit")
		out, err := exec.Command("go", "build", "-o", mailpitBin, "github.com/axllent/mailpit").CombinedOutput()
		if err != nil {
			mailpitErr = fmt.Errorf("build mailpit: %v\n%s", err, out)
		}
	})
	if mailpitErr != nil {
		t.Fatal(mailpitErr)
	}
	m := &mailpit{smtp: freePort(t), api: freePort(t)}
	// No version check and no reverse DNS: nothing leaves this machine.
	cmd := exec.Command(mailpitBin, "--smtp", m.smtp, "--listen", m.api, "--disable-version-check", "--smtp-disable-rdns",
		"--max", "20000", "--database", filepath.Join(t.TempDir(), "mailpit.db"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get("http://" + m.api + "/api/v1/messages"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type mailSummary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

func (m *mailpit) get(t *testing.T, path string, into any) {
	t.Helper()
	res, err := http.Get("http://" + m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("mailpit %s: %v: %s", path, err, raw)
	}
}

// total is how many messages mailpit holds.
func (m *mailpit) total(t *testing.T) int {
	var list struct {
		Total int `json:"total"`
	}
	m.get(t, "/api/v1/messages?limit=1", &list)
	return list.Total
}

// await returns the first message to address whose subject starts with
// subject, waiting for it.
func (m *mailpit) await(t *testing.T, to, subject string) (text string, headers map[string][]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var list struct{ Messages []mailSummary }
		m.get(t, "/api/v1/messages?limit=500", &list)
		for _, msg := range list.Messages {
			if strings.HasPrefix(msg.Subject, subject) && len(msg.To) == 1 && msg.To[0].Address == to {
				var full struct{ Text string }
				m.get(t, "/api/v1/message/"+msg.ID, &full)
				m.get(t, "/api/v1/message/"+msg.ID+"/headers", &headers)
				return full.Text, headers
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail %q to %s", subject, to)
	return "", nil
}

var linkRE = regexp.MustCompile(`https?://\S+`)

func TestMailEndToEnd(t *testing.T) {
	mp := startMailpit(t)
	db := []string{"--data-dir", t.TempDir()}
	key, stderr, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme Games"}, db...)...)
	if code != 0 {
		t.Fatalf("workspace create: %s", stderr)
	}
	key = strings.TrimSpace(key)
	s := startServe(t, append(db, "--base-url", "http://127.0.0.1:0", "--smtp-url", "smtp://"+mp.smtp, "--mail-from", "status@acme.test")...)
	for _, c := range []string{`{"name":"Edge","slug":"edge"}`, `{"name":"Core","slug":"core"}`} {
		if code, body := call(t, "POST", s.url+"/api/v1/components", key, c); code != 201 {
			t.Fatalf("component: %d %v", code, body)
		}
	}
	root := s.url + "/s/acme"

	// Subscribe on the public page, for Edge only.
	res, err := http.PostForm(root+"/subscribe", url.Values{"email": {"ops@example.com"}, "component": {"edge"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "Check your inbox") {
		t.Fatalf("subscribe: %d %s", res.StatusCode, page)
	}
	text, headers := mp.await(t, "ops@example.com", "Confirm your subscription to Acme Games")
	if _, ok := headers["List-Unsubscribe"]; ok {
		t.Errorf("the opt-in mail has a List-Unsubscribe header: there is nothing to leave yet")
	}
	var confirm string
	for _, l := range linkRE.FindAllString(text, -1) {
		if strings.Contains(l, "/subscriptions/confirm?") {
			confirm = l
		}
	}
	if !strings.HasPrefix(confirm, root+"/subscriptions/confirm?") {
		t.Fatalf("confirm link %q is not on the host the form was on (%s):\n%s", confirm, root, text)
	}
	// A forged link is refused; the real one confirms.
	if code, _ := call(t, "GET", strings.Replace(confirm, "t=", "t=x", 1), "", ""); code != 403 {
		t.Errorf("forged confirm link: %d", code)
	}
	// Following the link (as a mail scanner does) only shows a button.
	res, err = http.Get(confirm)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), `<form method="post"`) || !strings.Contains(string(page), "Confirm subscription") {
		t.Fatalf("confirm link: %d %s", res.StatusCode, page)
	}
	_, subs := call(t, "GET", s.url+"/api/v1/subscribers", key, "")
	if sub := subs["data"].([]any)[0].(map[string]any); sub["confirmed_at"] != nil {
		t.Fatalf("a GET of the confirm link confirmed the subscription: %v", sub)
	}
	if code, _ := call(t, "POST", confirm, "", ""); code != 200 {
		t.Fatalf("confirm: %d", code)
	}
	_, subs = call(t, "GET", s.url+"/api/v1/subscribers", key, "")
	if sub := subs["data"].([]any)[0].(map[string]any); sub["confirmed_at"] == nil {
		t.Fatalf("the confirm button did not confirm: %v", sub)
	}

	// An incident on Core is not for this subscriber; one on Edge is.
	code, _ = call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"Core database slow","components":{"core":"degraded_performance"}}`)
	if code != 201 {
		t.Fatal(code)
	}
	code, inc := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"DDoS attack detected on US-East cluster","status":"investigating",
		"message":"We are mitigating a UDP flood.","components":{"edge":"partial_outage"}}`)
	if code != 201 {
		t.Fatal(code, inc)
	}
	incID := inc["id"].(string)
	text, first := mp.await(t, "ops@example.com", "[Investigating] DDoS attack detected on US-East cluster")
	for _, want := range []string{"We are mitigating a UDP flood.", root + "/incidents/" + incID, "Edge: Partial outage", "Core: Degraded performance", "Unsubscribe: " + root} {
		if !strings.Contains(text, want) {
			t.Errorf("first mail lacks %q:\n%s", want, text)
		}
	}
	if got := first["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %v", got)
	}
	unsub := strings.Trim(first["List-Unsubscribe"][0], "<>")
	if !strings.HasPrefix(unsub, root+"/subscriptions/unsubscribe?") {
		t.Errorf("List-Unsubscribe %q", unsub)
	}
	threadID := first["Message-Id"][0]
	if !strings.HasPrefix(threadID, "<"+incID+".sub_") {
		t.Errorf("first Message-ID %q does not name the incident", threadID)
	}
	if from := first["From"][0]; !strings.Contains(from, "Acme Games") || !strings.Contains(from, "<status@acme.test>") {
		t.Errorf("From %q", from)
	}

	// Resolving threads under the first mail.
	if code, _ := call(t, "POST", s.url+"/api/v1/incidents/"+incID+"/resolve", key, `{"message":"Traffic is back to normal."}`); code != 200 {
		t.Fatal(code)
	}
	text, second := mp.await(t, "ops@example.com", "[Resolved] DDoS attack detected on US-East cluster")
	if second["In-Reply-To"][0] != threadID || second["References"][0] != threadID || second["Message-Id"][0] == threadID {
		t.Errorf("threading: Message-ID %v In-Reply-To %v References %v, first was %s", second["Message-Id"], second["In-Reply-To"], second["References"], threadID)
	}
	if !strings.Contains(text, "Traffic is back to normal.") {
		t.Errorf("resolution mail:\n%s", text)
	}

	// One-click unsubscribe (RFC 8058), as a mail client does it.
	res, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d", res.StatusCode)
	}
	_, subs = call(t, "GET", s.url+"/api/v1/subscribers?type=email", key, "")
	if n := len(subs["data"].([]any)); n != 0 {
		t.Errorf("%d email subscribers left after unsubscribing", n)
	}
	before := mp.total(t)
	if code, _ := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"Another one","components":{"edge":"major_outage"}}`); code != 201 {
		t.Fatal(code)
	}
	time.Sleep(1500 * time.Millisecond)
	if after := mp.total(t); after != before {
		t.Errorf("%d mails after unsubscribing", after-before)
	}
}
