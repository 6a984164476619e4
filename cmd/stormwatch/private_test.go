package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stormwatch/stormwatch/internal/browsertest"
)

// fetch fetches url with client c and returns status, headers and body.
func fetch(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body)
}

// TestPrivatePage: a private page is refused on every path — HTML asks
// for access (401), JSON, feeds, events, badges and the widget say no
// (403) — and opens in headless Chromium with the password, with an
// invitation link mailed through a real SMTP server, and from a listed
// address range; revoking access ends it for everyone; and a private
// component of a public page is seen only by readers with access.
func TestPrivatePage(t *testing.T) {
	mp := startMailpit(t)
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--smtp-url", "smtp://"+mp.smtp, "--mail-from", "status@acme.test")...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Billing database","slug":"billing-db","private":true}`)
	root := s.url + "/s/acme"
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// A public page hides its private component from anonymous readers,
	// in the HTML and the JSON alike.
	for _, p := range []string{"/", "/api/v2/summary.json", "/api/v2/components.json"} {
		code, h, body := fetch(t, anon, root+p)
		if code != 200 || strings.Contains(body, "Billing database") || !strings.Contains(body, "Web") || !strings.HasPrefix(h.Get("Cache-Control"), "private") ||
			h.Get("X-Robots-Tag") != "" {
			t.Errorf("public page %s with a private component: %d %s %q", p, code, h.Get("Cache-Control"), body[:min(len(body), 200)])
		}
	}

	if code, out := call(t, "PUT", s.url+"/api/v1/page-access", key, `{"private":true,"password":"short"}`); code != 422 {
		t.Errorf("a short password: %d %v", code, out)
	}
	if code, out := call(t, "PUT", s.url+"/api/v1/page-access", key, `{"private":true,"password":"correct horse battery","ip_ranges":["10.0.0.0/8"]}`); code != 200 || out["has_password"] != true {
		t.Fatalf("page-access: %d %v", code, out)
	}
	for _, c := range []struct {
		path string
		code int
	}{{"/", 401}, {"/history", 401}, {"/api/v2/summary.json", 403}, {"/api/v2/status.json", 403}, {"/feed.xml", 403}, {"/feed.rss", 403},
		{"/events", 403}, {"/badge.svg", 403}, {"/embed.js", 403}, {"/embed", 401}, {"/subscribe", 401}} {
		code, h, body := fetch(t, anon, root+c.path)
		if code != c.code || h.Get("X-Robots-Tag") != "noindex" || strings.Contains(body, "Web") || strings.Contains(body, "Billing") {
			t.Errorf("%s without access: %d %v %q, want %d", c.path, code, h, body[:min(len(body), 120)], c.code)
		}
		if c.code == 401 && !strings.Contains(body, `type="password"`) {
			t.Errorf("%s: the refusal does not ask for the password", c.path)
		}
	}
	// Subscription links carry their own signature: a subscriber of a
	// private page can still leave (this one is forged, so it says so).
	if code, _, body := fetch(t, anon, root+"/subscriptions/unsubscribe?s=sub_x&t=forged"); code != 403 || !strings.Contains(body, "This link does not work") {
		t.Errorf("a subscription link on a private page: %d %q", code, body[:min(len(body), 200)])
	}
	// The fast path in front refuses too, and so does a forged cookie.
	req, _ := http.NewRequest("GET", root+"/api/v2/summary.json", nil)
	req.AddCookie(&http.Cookie{Name: "sw_access", Value: "9999999999.forged"})
	if res, err := anon.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("a forged cookie: %v %v", res.StatusCode, err)
	}

	// The password, in a browser.
	ctx := browsertest.New(t)
	text := func() string { return browsertest.Eval[string](t, ctx, `document.body.innerText`) }
	browsertest.Do(t, ctx, chromedp.Navigate(root+"/history"), chromedp.WaitVisible(chromedp.CSS("#password")))
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"), chromedp.Click(chromedp.CSS(`form[action*="/access"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".error")))
	if !strings.Contains(text(), "Wrong password.") {
		t.Errorf("a wrong password: %s", text())
	}
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"), chromedp.Click(chromedp.CSS(`form[action*="/access"] button`)),
		chromedp.WaitVisible(chromedp.CSS("footer")))
	if loc := browsertest.Eval[string](t, ctx, `location.pathname`); loc != "/s/acme/history" {
		t.Errorf("after the password the reader is at %s, not the page they asked for", loc)
	}
	browsertest.Do(t, ctx, chromedp.Navigate(root+"/"), chromedp.WaitVisible(chromedp.CSS("footer")))
	if !strings.Contains(text(), "Billing database") || browsertest.Eval[string](t, ctx, `document.querySelector('meta[name=robots]').content`) != "noindex" {
		t.Errorf("the private page with the password:\n%s", text())
	}
	browsertest.Screenshot(t, ctx, "private-page-open.png")

	// An invitation: the mail (in the language asked for) carries a link
	// that opens the page in a browser that never saw the password.
	if code, out := call(t, "POST", s.url+"/api/v1/page-access/invites", key, `{"email":"ann@customer.example","language":"de"}`); code != 201 {
		t.Fatalf("invite: %d %v", code, out)
	}
	mail, _ := mp.await(t, "ann@customer.example", "Ihr Link zu Acme Games")
	var link string
	for _, l := range linkRE.FindAllString(mail, -1) {
		if strings.Contains(l, "/access/link?") {
			link = l
		}
	}
	if !strings.HasPrefix(link, root+"/access/link?") {
		t.Fatalf("no invitation link in:\n%s", mail)
	}
	guest := browsertest.New(t)
	browsertest.Do(t, guest, chromedp.Navigate(root+"/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	browsertest.Do(t, guest, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("footer")))
	if got := browsertest.Eval[string](t, guest, `document.body.innerText`); !strings.Contains(got, "Billing database") {
		t.Errorf("the invitation link did not open the page:\n%s", got)
	}
	// A link changed on the way, or to an invitation withdrawn, opens nothing.
	if code, _, _ := fetch(t, anon, strings.Replace(link, "ann%40", "eve%40", 1)); code != 403 {
		t.Errorf("a tampered link: %d", code)
	}
	_, invites := call(t, "GET", s.url+"/api/v1/page-access/invites", key, "")
	id := invites["data"].([]any)[0].(map[string]any)["id"].(string)
	call(t, "DELETE", s.url+"/api/v1/page-access/invites/"+id, key, "")
	if code, _, _ := fetch(t, anon, link); code != 403 {
		t.Errorf("the link of a withdrawn invitation: %d", code)
	}
	// Asking for a new link says the same whether or not the address is invited.
	res, err := anon.PostForm(root+"/access/email", url.Values{"email": {"nobody@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "If this address is invited") {
		t.Errorf("a link for an unknown address: %d %s", res.StatusCode, body)
	}

	// Revoking access ends the password's cookie (kept by this client).
	jar, _ := cookiejar.New(nil)
	reader := &http.Client{Jar: jar}
	res, err = reader.PostForm(root+"/access", url.Values{"password": {"correct horse battery"}, "next": {"/s/acme/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if code, _, _ := fetch(t, reader, root+"/api/v2/summary.json"); code != 200 {
		t.Fatalf("the password's cookie does not open the JSON: %d", code)
	}
	call(t, "PUT", s.url+"/api/v1/page-access", key, `{"revoke_all":true}`)
	if code, _, _ := fetch(t, reader, root+"/api/v2/summary.json"); code != 403 {
		t.Errorf("after revoking, the old cookie still reads the page: %d", code)
	}

	// Guessing the password meets the limit (ten tries a quarter hour per
	// client and page; the tries above count); then not even the right
	// one opens the page.
	limited := false
	for i := 0; i < 11 && !limited; i++ {
		res, err := anon.PostForm(root+"/access", url.Values{"password": {fmt.Sprintf("guess number %d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		limited = res.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("eleven wrong passwords in a row met no limit")
	}
	if res, err := anon.PostForm(root+"/access", url.Values{"password": {"correct horse battery"}}); err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password past the limit: %v %v", res.StatusCode, err)
	}

	// Readers from a listed range need nothing.
	call(t, "PUT", s.url+"/api/v1/page-access", key, `{"ip_ranges":["127.0.0.0/8"]}`)
	if code, _, body := fetch(t, anon, root+"/api/v2/summary.json"); code != 200 || !strings.Contains(body, "Billing database") {
		t.Errorf("from a listed range: %d %s", code, body)
	}
	office := browsertest.New(t)
	browsertest.Do(t, office, chromedp.Navigate(root+"/"), chromedp.WaitVisible(chromedp.CSS("footer")))
	if got := browsertest.Eval[string](t, office, `document.body.innerText`); !strings.Contains(got, "Billing database") {
		t.Errorf("a browser in the listed range does not see the page:\n%s", got)
	}
	// The audit log tells who changed access, never the password.
	_, audit := call(t, "GET", s.url+"/api/v1/audit-log", key, "")
	if raw := strings.ToLower(fmt.Sprint(audit)); !strings.Contains(raw, "page_access.update") || strings.Contains(raw, "correct horse") {
		t.Errorf("audit log: %s", raw)
	}
}
