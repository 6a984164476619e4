package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/channel/channeltest"
)

// TestPublicPageOffersChatChannels: a workspace that enables Slack on its
// page lets a visitor subscribe a Slack incoming webhook there, which then
// hears the next incident through the real server's delivery worker; what
// the workspace does not enable is refused.
func TestPublicPageOffersChatChannels(t *testing.T) {
	slackRecv := channeltest.New(t, channeltest.Slack, 1) // the first post fails: retried
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--allow-private-webhooks")...)
	call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Web","slug":"web"}`)
	if code, ws := call(t, "PATCH", s.url+"/api/v1/workspace", key, `{"subscribe_channels":["email","slack"]}`); code != 200 {
		t.Fatalf("patch workspace: %v", ws)
	}
	if code, out := call(t, "PATCH", s.url+"/api/v1/workspace", key, `{"subscribe_channels":["pagerduty"]}`); code != 422 {
		t.Fatalf("pagerduty on a public page: %d %v", code, out)
	}
	res, err := http.Get(s.url + "/s/acme/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(form), "Slack incoming webhook") || strings.Contains(string(form), "Webhook (signed JSON)") {
		t.Fatalf("the form does not offer what the workspace enables:\n%s", form)
	}
	post := func(kind, u string) int {
		res, err := http.PostForm(s.url+"/s/acme/subscribe", url.Values{"kind": {kind}, "url": {u}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("webhook", "http://127.0.0.1:9/x"); code != 422 {
		t.Fatalf("a kind the page does not offer: %d", code)
	}
	if code := post("slack", slackRecv.URL+"/services/T0/B0/x"); code != 200 {
		t.Fatalf("slack subscription: %d", code)
	}
	call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"Checkout errors","components":{"web":"partial_outage"},"message":"We are looking into it."}`)
	for deadline := time.Now().Add(20 * time.Second); len(slackRecv.Accepted()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the Slack webhook never heard of the incident\n%s", s.stderr)
		}
	}
	if got := slackRecv.Accepted(); !strings.Contains(string(got[0].Body), "Checkout errors") {
		t.Fatalf("slack message: %s", got[0].Body)
	}
}
