package main

import (
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
