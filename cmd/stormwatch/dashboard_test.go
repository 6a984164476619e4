package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stormwatch/stormwatch/internal/browsertest"
)

var setupURL = regexp.MustCompile(`setup_url="?([^"\s]+)`)

// TestDashboardWalkThrough is a new operator's first hour in headless
// Chromium against the real binary: the printed setup link, a workspace,
// components, a node that reports traffic, rules with a mistake, a
// maintenance window, an incident that appears on the public page, and a
// second client workspace that shows none of the first's data. Every
// screen is saved as a screenshot.
func TestDashboardWalkThrough(t *testing.T) {
	s := startServe(t, "--data-dir", t.TempDir(), "--base-url", "http://127.0.0.1:0")
	link := s.await(t, setupURL)
	ctx := browsertest.New(t)
	shot := func(name string) { browsertest.Screenshot(t, ctx, "dashboard-"+name+".png") }
	do := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, steps...) }
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	// submit posts a form by its button and waits for the next page.
	submit := func(form string) {
		t.Helper()
		browsertest.Eval[bool](t, ctx, `window.__before = true`)
		do(chromedp.Click(chromedp.CSS(form + ` button[type=submit]`)))
		// Evaluating while the page changes fails; that is no answer yet.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__before === undefined && document.readyState === "complete"`))
			if err == nil && done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("submitting %s led nowhere: %v", form, err)
			}
		}
	}
	mainText := func() string { t.Helper(); return text("main") }

	// First run: the setup link from the log makes the first owner.
	do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#setup-form")))
	do(chromedp.SendKeys(chromedp.CSS("#name"), "Olga Owner"), chromedp.SendKeys(chromedp.CSS("#email"), "olga@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"), chromedp.SendKeys(chromedp.CSS("#password2"), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS("#workspace"), "Acme Games"), chromedp.SendKeys(chromedp.CSS("#slug"), "acme"))
	shot("01-setup")
	submit("#setup-form")
	do(chromedp.WaitVisible(chromedp.CSS("#new-component")))

	// Components.
	for _, name := range []string{"US-East game 01", "Website"} {
		do(chromedp.SendKeys(chromedp.CSS("#c-name"), name))
		submit("#new-component")
	}
	if got := text("#component-table"); !strings.Contains(got, "US-East game 01") || !strings.Contains(got, "website") {
		t.Fatalf("components table:\n%s", got)
	}
	shot("02-components")

	// A node, with its one-line agent command.
	do(chromedp.Navigate(s.url+"/admin/w/acme/nodes"), chromedp.WaitVisible(chromedp.CSS("#new-node")),
		chromedp.SendKeys(chromedp.CSS("#n-name"), "edge-1"), chromedp.Click(chromedp.CSS(`#new-node input[value="us-east-game-01"]`)))
	submit("#new-node")
	command := text("#agent-command")
	token := regexp.MustCompile(`STORMWATCH_TOKEN=(swn_\w+) stormwatch agent --server ` + regexp.QuoteMeta(s.url)).FindStringSubmatch(command)
	if token == nil {
		t.Fatalf("agent command %q", command)
	}
	shot("03-node-added")
	// The node reports traffic as its agent would; the overview shows it
	// alive with a sparkline, refreshed in place.
	for i := range 4 {
		code, _ := call(t, "POST", s.url+"/api/v1/agent/heartbeat", token[1], fmt.Sprintf(`{"agent_version":"test","source":"eth0","pps":%d,"bps":%d}`, 1000*(i+1), 8e6*(i+1)))
		if code != http.StatusOK { // the answer lists the node's checks
			t.Fatalf("heartbeat answered %d", code)
		}
	}
	do(chromedp.Navigate(s.url+"/admin/w/acme/"), chromedp.WaitVisible(chromedp.CSS("#node-table")))
	if got := text("#node-table"); !strings.Contains(got, "edge-1") || !strings.Contains(got, "alive") || !strings.Contains(got, "4.0 kpps") {
		t.Errorf("overview nodes:\n%s", got)
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#node-table svg.spark polyline").length`); n != 1 {
		t.Errorf("%d sparklines", n)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("live").dataset.refreshed !== undefined`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("the overview never refreshed itself: %v", err)
	}
	shot("04-overview")

	// Rules: a mistake on line 2 is shown at line 2, and nothing is saved.
	do(chromedp.Navigate(s.url+"/admin/w/acme/rules"), chromedp.WaitVisible(chromedp.CSS("#rules")),
		chromedp.SetValue(chromedp.CSS("#rules"), "severity >= high -> publish immediately\nseverity >= medum -> publish immediately\n"))
	submit("#rules-form >")
	do(chromedp.WaitVisible(chromedp.CSS("#rule-errors")))
	if got := text(".rule-error"); !strings.HasPrefix(got, "Line 2, column") {
		t.Errorf("rule error %q", got)
	}
	if line := browsertest.Eval[string](t, ctx, `document.querySelector("#rule-errors .listing div.err").id`); line != "L2" {
		t.Errorf("the marked line is %q", line)
	}
	shot("05-rules-error")
	do(chromedp.SetValue(chromedp.CSS("#rules"), "severity >= high -> publish immediately\nseverity >= medium -> publish after 60s if unresolved\n"))
	submit("#dry-run")
	do(chromedp.WaitVisible(chromedp.CSS("#dry-run-result")))
	if got := text("#decided-rule"); got != "severity >= high -> publish immediately" {
		t.Errorf("dry run chose %q", got)
	}
	shot("06-rules-dry-run")
	submit("#rules-form >")
	do(chromedp.WaitVisible(chromedp.CSS("#rule-count")))

	// Maintenance, in the workspace's time zone (UTC).
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	do(chromedp.Navigate(s.url+"/admin/w/acme/maintenance"), chromedp.WaitVisible(chromedp.CSS("#new-maintenance")),
		chromedp.SendKeys(chromedp.CSS("#m-title"), "Network upgrade"),
		chromedp.SetValue(chromedp.CSS("#m-start"), start.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS("#m-end"), start.Add(2*time.Hour).Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.CSS(`#new-maintenance input[value="website"]`)))
	submit("#new-maintenance")
	if got := mainText(); !strings.Contains(got, "Network upgrade") || !strings.Contains(got, start.Format("2006-01-02 15:04")) {
		t.Errorf("maintenance page:\n%s", got)
	}
	shot("07-maintenance")

	// An incident, which the public page shows.
	do(chromedp.Navigate(s.url+"/admin/w/acme/incidents"), chromedp.WaitVisible(chromedp.CSS("#new-incident")),
		chromedp.SendKeys(chromedp.CSS("#i-title"), "DDoS attack on US-East"),
		chromedp.SendKeys(chromedp.CSS("#i-msg"), "We are mitigating a UDP flood."),
		chromedp.SetValue(chromedp.CSS(`select[name="comp.us-east-game-01"]`), "partial_outage"))
	submit("#new-incident")
	if got := text("#incident-title"); got != "DDoS attack on US-East" {
		t.Fatalf("incident page title %q", got)
	}
	shot("08-incident")
	do(chromedp.Navigate(s.url+"/s/acme/"), chromedp.WaitVisible(chromedp.CSS("#content")))
	if got := text("#content"); !strings.Contains(got, "DDoS attack on US-East") || !strings.Contains(got, "We are mitigating a UDP flood.") {
		t.Errorf("public page:\n%s", got)
	}
	shot("09-public-page")

	// Branding: the preview follows the colour as it is picked, and the
	// page wears it once saved.
	do(chromedp.Navigate(s.url+"/admin/w/acme/branding"), chromedp.WaitVisible(chromedp.CSS("#branding-form")))
	bar := browsertest.Eval[string](t, ctx, `(() => { const c = document.getElementById("b-color"); c.value = "#ff6600";
		c.dispatchEvent(new Event("input", {bubbles: true})); return getComputedStyle(document.querySelector(".preview .bar")).backgroundColor })()`)
	if bar != "rgb(255, 102, 0)" {
		t.Errorf("preview colour %q", bar)
	}
	shot("10-branding")
	submit("#branding-form")
	if code, body := get(t, s.url+"/s/acme/"); code != 200 || !strings.Contains(body, "#ff6600") {
		t.Errorf("the public page does not wear the new colour (%d)", code)
	}

	// Every other screen of the workspace.
	for _, p := range []string{"subscribers", "domains", "keys", "members", "settings", "audit", "components/us-east-game-01"} {
		do(chromedp.Navigate(s.url+"/admin/w/acme/"+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if strings.Contains(mainText(), "Something went wrong") {
			t.Errorf("%s failed:\n%s", p, mainText())
		}
		shot("10-" + strings.ReplaceAll(p, "/", "-"))
	}

	// A second client workspace: one form, and none of Acme's data.
	do(chromedp.Navigate(s.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#new-workspace")),
		chromedp.SendKeys(chromedp.CSS("#ws-name"), "Globex Hosting"), chromedp.SendKeys(chromedp.CSS("#ws-slug"), "globex"))
	shot("11-workspaces")
	submit("#new-workspace")
	for _, p := range []string{"", "components", "nodes", "incidents?show=all", "maintenance", "audit"} {
		do(chromedp.Navigate(s.url+"/admin/w/globex/"+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		got := mainText()
		for _, acme := range []string{"US-East", "Website", "edge-1", "DDoS attack", "Network upgrade"} {
			if strings.Contains(got, acme) {
				t.Errorf("Globex's %q page shows Acme's %q:\n%s", p, acme, got)
			}
		}
	}
	shot("12-second-workspace")
	// The switcher leads back.
	do(chromedp.Click(chromedp.CSS("#current-workspace")), chromedp.Click(chromedp.CSS(`.switcher a[href="/admin/w/acme/"]`)),
		chromedp.WaitVisible(chromedp.CSS("#node-table")))
	if got := text("#current-workspace"); got != "Acme Games" {
		t.Errorf("switched to %q", got)
	}
	// Phone width: the dashboard does not scroll sideways.
	do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.url+"/admin/w/acme/incidents"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if browsertest.Eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the phone layout scrolls sideways")
	}
	shot("13-phone")
}

// get fetches a URL and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
