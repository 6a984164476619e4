package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stormwatch/stormwatch/internal/browsertest"
)

// TestWidgetOnAnotherOrigin: a host site on another origin embeds the
// widget with one script tag; headless Chromium shows the page's status
// in it, then the incident as soon as it is created (the widget follows
// the page's event stream), and the iframe variant and badges answer
// with the headers an embed needs.
func TestWidgetOnAnotherOrigin(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, db...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"EU game 01","slug":"eu-game-01"}`)
	root := s.url + "/s/acme"
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><body><h1>Acme hosting control panel</h1><script src="%s/embed.js"></script></body></html>`, root)
	}))
	defer host.Close()

	for _, c := range []struct{ path, ctype string }{{"/embed.js", "text/javascript; charset=utf-8"}, {"/badge.svg", "image/svg+xml"},
		{"/components/eu-game-01/badge.svg", "image/svg+xml"}, {"/api/v2/summary.json", "application/json; charset=utf-8"}} {
		res, err := http.Get(root + c.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != c.ctype || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(res.Header.Get("Cache-Control"), "max-age=") || res.Header.Get("ETag") == "" {
			t.Errorf("%s: %d %v", c.path, res.StatusCode, res.Header)
		}
	}
	res, err := http.Get(root + "/embed")
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Frame-Options") != "" || !strings.Contains(string(frame), "All Systems Operational") ||
		!strings.Contains(string(frame), `noindex`) {
		t.Fatalf("/embed: %d %v\n%s", res.StatusCode, res.Header, frame)
	}

	ctx := browsertest.New(t)
	browsertest.Do(t, ctx, chromedp.Navigate(host.URL))
	widget := func() string {
		return browsertest.Eval[string](t, ctx, `(function(){var h=document.querySelector(".stormwatch-widget");return h&&h.shadowRoot?h.shadowRoot.textContent:""})()`)
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(widget(), "All Systems Operational"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the widget never showed the status: %q", widget())
		}
	}
	call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"Game servers <b>unreachable</b>","components":{"eu-game-01":"major_outage"},"message":"Looking into it."}`)
	start := time.Now()
	for !strings.Contains(widget(), "Game servers <b>unreachable</b>") {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("the widget never showed the incident: %q", widget())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the widget showed the incident %s after it was created", time.Since(start).Round(10*time.Millisecond))
	if n := browsertest.Eval[int](t, ctx, `document.querySelector(".stormwatch-widget").shadowRoot.querySelectorAll("b").length`); n != 0 {
		t.Fatal("the incident title was rendered as HTML in the widget")
	}
	browsertest.Screenshot(t, ctx, "embed-widget.png")
}

// TestHostilePostmortemIsHarmless: a post-mortem written with hostile
// Markdown shows its text on the incident's page in headless Chromium,
// and nothing in it runs.
func TestHostilePostmortemIsHarmless(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, db...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	_, inc := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"Checkout errors","components":{"web":"major_outage"},"message":"Investigating."}`)
	id := inc["id"].(string)
	hostile := "## Root cause\n\nA bad deploy.\n\n<script>window.__pwned=1</script>\n\n<img src=x onerror=\"window.__pwned=2\">\n\n" +
		"[details](javascript:window.__pwned=3)\n\n<svg onload=\"window.__pwned=4\"></svg>\n\n<a href=\"#\" onmouseover=\"window.__pwned=5\">hover</a>\n"
	body, _ := json.Marshal(map[string]any{"markdown": hostile, "publish": true})
	if code, out := call(t, "PUT", s.url+"/api/v1/incidents/"+id+"/postmortem", key, string(body)); code != 200 {
		t.Fatalf("post-mortem: %d %v", code, out)
	}
	ctx := browsertest.New(t)
	browsertest.Do(t, ctx, chromedp.Navigate(s.url+"/s/acme/incidents/"+id), chromedp.WaitVisible("#h-pm"))
	if text := browsertest.Eval[string](t, ctx, `document.querySelector(".postmortem").innerText`); !strings.Contains(text, "A bad deploy.") {
		t.Fatalf("post-mortem text: %q", text)
	}
	browsertest.Do(t, ctx, chromedp.Sleep(300*time.Millisecond))
	if pwned := browsertest.Eval[bool](t, ctx, `window.__pwned !== undefined`); pwned {
		t.Fatal("the post-mortem's markup ran in the page")
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll(".postmortem script, .postmortem [onerror], .postmortem [onload], .postmortem [onmouseover], .postmortem a[href^=javascript]").length`); n != 0 {
		t.Fatalf("%d hostile elements or attributes in the post-mortem", n)
	}
	browsertest.Screenshot(t, ctx, "postmortem-hostile.png")
}
