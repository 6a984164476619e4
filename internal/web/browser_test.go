package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stormwatch/stormwatch/internal/browsertest"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestPageInBrowser loads the page in Chromium at desktop and phone widths
// and sees an incident arrive over SSE without a reload.
func TestPageInBrowser(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	s.api("POST", "/api/v1/components", `{"name":"US-East game 01","slug":"us-east-game-01"}`)
	s.api("POST", "/api/v1/components", `{"name":"Website"}`)
	ctx := browsertest.New(t)
	url := s.srv.URL + "/s/acme/"

	browsertest.Do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url))
	if banner := browsertest.Eval[string](t, ctx, `document.querySelector(".banner").innerText`); banner != "All Systems Operational" {
		t.Fatalf("banner %q", banner)
	}
	browsertest.Eval[bool](t, ctx, `window.__notReloaded = true`)
	browsertest.Screenshot(t, ctx, "public-desktop-operational.png")

	// Wait until the page's event stream is open, then change the page.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.live === "on"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("event stream never opened: %v", err)
	}
	s.api("POST", "/api/v1/incidents", `{"title":"DDoS attack detected on US-East cluster","impact":"major",
		"message":"We are mitigating a UDP flood.","components":{"us-east-game-01":"partial_outage"}}`)
	start := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("content").innerText.includes("DDoS attack detected")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("incident never appeared: %v", err)
	}
	t.Logf("incident visible %v after the API call", time.Since(start).Round(time.Millisecond))
	if !browsertest.Eval[bool](t, ctx, `window.__notReloaded === true`) {
		t.Error("the page reloaded instead of refreshing its content")
	}
	content := browsertest.Eval[string](t, ctx, `document.getElementById("content").innerText`)
	if !strings.Contains(content, "Minor Service Outage") || !strings.Contains(content, "Partial outage") {
		t.Errorf("content after update:\n%s", content)
	}
	browsertest.Screenshot(t, ctx, "public-desktop-incident.png")

	browsertest.Do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(url))
	if browsertest.Eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the phone layout scrolls sideways")
	}
	browsertest.Screenshot(t, ctx, "public-phone-incident.png")
}
