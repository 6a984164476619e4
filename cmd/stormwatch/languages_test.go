package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stormwatch/stormwatch/internal/browsertest"
)

// acceptLanguage makes the browser send header as its Accept-Language, as
// a browser set to that language does.
func acceptLanguage(header string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": header}})
		return chromedp.Void{}, err
	}
}

// TestPageInThreeLanguages: headless Chromium reads the page in German
// and French as its Accept-Language asks, then picks Russian with the
// switcher, which the page's own links keep; <html lang> says which each
// time. An automatic incident speaks each language too.
func TestPageInThreeLanguages(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, db...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"fnm","components":["web"]}`)
	step := `{"events":[{"id":"l-1","attack_id":"l","type":"started","target":"203.0.113.9","severity":"critical","classification":"udp_flood","pps":2000000}]}`
	if code, out := call(t, "POST", s.url+"/api/v1/inbound/events", node["token"].(string), step); code != 200 {
		t.Fatalf("inbound: %d %v", code, out)
	}
	root := s.url + "/s/acme/"
	ctx := browsertest.New(t)
	text := func() string { return browsertest.Eval[string](t, ctx, `document.body.innerText`) }
	lang := func() string { return browsertest.Eval[string](t, ctx, `document.documentElement.lang`) }
	for _, c := range []struct{ header, lang, banner, title string }{
		{"de-DE,de;q=0.9,en;q=0.5", "de", "Schwerer Systemausfall", "DDoS-Angriff betrifft Web"},
		{"fr-CH, fr;q=0.9", "fr", "Panne majeure du système", "Attaque DDoS touchant Web"},
	} {
		browsertest.Do(t, ctx, acceptLanguage(c.header), chromedp.Navigate(root), chromedp.WaitVisible(chromedp.CSS("footer")))
		if got := lang(); got != c.lang {
			t.Errorf("Accept-Language %q: <html lang=%q>", c.header, got)
		}
		for _, want := range []string{c.banner, c.title, "UDP"} {
			if !strings.Contains(text(), want) {
				t.Errorf("%s page lacks %q:\n%s", c.lang, want, text())
			}
		}
	}
	// The switcher: a link per language, no script needed.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="ru"]`)), chromedp.WaitVisible(chromedp.CSS(`a[aria-current="true"][hreflang="ru"]`)))
	if lang() != "ru" || !strings.Contains(text(), "История инцидентов") || !strings.Contains(text(), "DDoS-атака на Web") {
		t.Fatalf("the switcher did not give Russian (lang %q):\n%s", lang(), text())
	}
	browsertest.Screenshot(t, ctx, "page-russian.png")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`footer nav a[href*="/history"]`)), chromedp.WaitVisible(chromedp.CSS("h2")))
	if lang() != "ru" || !strings.Contains(browsertest.Eval[string](t, ctx, `location.href`), "lang=ru") {
		t.Errorf("the history link lost the language the reader chose: %s", browsertest.Eval[string](t, ctx, `location.href`))
	}

	// Caches in front learn what the page varies with.
	res, err := http.Get(root)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v := res.Header.Get("Vary"); !strings.Contains(v, "Accept-Language") || !strings.Contains(v, "Accept-Encoding") {
		t.Errorf("Vary: %q", v)
	}
	res, err = http.Get(root + "api/v2/status.json")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v := res.Header.Get("Vary"); strings.Contains(v, "Accept-Language") {
		t.Errorf("the Statuspage JSON does not vary with the language, yet Vary: %q", v)
	}
}

// TestGermanSubscriberGetsGermanMails: a reader subscribes on the German
// page; the incident the rules make from an English-speaking detector
// reaches them in German, and an English subscriber in English.
func TestGermanSubscriberGetsGermanMails(t *testing.T) {
	mp := startMailpit(t)
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--smtp-url", "smtp://"+mp.smtp, "--mail-from", "status@acme.test")...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	root := s.url + "/s/acme"
	subscribe := func(address, lang string) {
		form, err := http.Get(root + "/subscribe?lang=" + lang)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(form.Body)
		form.Body.Close()
		if !strings.Contains(string(body), `lang="`+lang+`"`) || !strings.Contains(string(body), `action="`+root+`/subscribe?lang=`+lang+`"`) {
			t.Fatalf("the %s form:\n%s", lang, body)
		}
		res, err := http.PostForm(root+"/subscribe?lang="+lang, url.Values{"email": {address}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	subscribe("anna@example.de", "de")
	subscribe("bob@example.com", "en")
	confirm := func(address, subject string) {
		text, _ := mp.await(t, address, subject)
		for _, l := range linkRE.FindAllString(text, -1) {
			if strings.Contains(l, "/subscriptions/confirm?") {
				if code, _ := call(t, "POST", l, "", ""); code != 200 {
					t.Fatalf("confirm %s: %d", address, code)
				}
				return
			}
		}
		t.Fatalf("no confirm link for %s:\n%s", address, text)
	}
	confirm("anna@example.de", "Bestätigen Sie Ihr Abonnement für Acme Games")
	confirm("bob@example.com", "Confirm your subscription to Acme Games")

	_, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"fnm","components":["web"]}`)
	step := `{"events":[{"id":"g-1","attack_id":"g","type":"started","target":"203.0.113.9","severity":"critical","classification":"udp_flood","pps":2000000}]}`
	if code, out := call(t, "POST", s.url+"/api/v1/inbound/events", node["token"].(string), step); code != 200 {
		t.Fatalf("inbound: %d %v", code, out)
	}
	text, _ := mp.await(t, "anna@example.de", "[Wird untersucht] DDoS-Angriff betrifft Web")
	for _, want := range []string{"Wir untersuchen einen Angriff auf Web (UDP-Flood).", "Betrifft: Web: Schwerer Ausfall", "Aktueller Status von Acme Games",
		"Abonnement verwalten", "Abbestellen"} {
		if !strings.Contains(text, want) {
			t.Errorf("the German mail lacks %q:\n%s", want, text)
		}
	}
	text, _ = mp.await(t, "bob@example.com", "[Investigating] DDoS attack affecting Web")
	if !strings.Contains(text, "We are investigating an attack on Web (UDP flood).") {
		t.Errorf("the English mail:\n%s", text)
	}
	// The API shows the translations beside the English text.
	_, list := call(t, "GET", s.url+"/api/v1/incidents", key, "")
	inc := list["data"].([]any)[0].(map[string]any)
	if inc["title"] != "DDoS attack affecting Web" || inc["title_translations"].(map[string]any)["uk"] != "DDoS-атака на Web" {
		t.Errorf("incident %v", inc)
	}
}
