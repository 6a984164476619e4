package page

import (
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

const hostile = "# What happened\n\nA **UDP flood** hit [our EU platform](https://status.example.com/) at 02:14 UTC.\n\n" +
	"<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n\n" +
	"<a href=\"https://evil.example\" onclick=\"alert(4)\">raw</a>\n\n![pixel](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)\n\n" +
	"| time | event |\n|---|---|\n| 02:14 | onset |\n\n<iframe src=\"https://evil.example\"></iframe>\n<style>body{display:none}</style>\n"

func TestPostmortemHostileMarkdown(t *testing.T) {
	out := string(RenderMarkdown(hostile))
	for _, bad := range []string{"<script", "onerror", "javascript:", "onclick", "<iframe", "<style", "data:image", "alert("} {
		if strings.Contains(out, bad) {
			t.Errorf("the rendered post-mortem holds %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{"<h1>What happened</h1>", "<strong>UDP flood</strong>", `href="https://status.example.com/"`, "<table>", "<td>onset</td>"} {
		if !strings.Contains(out, good) {
			t.Errorf("the rendered post-mortem lacks %q:\n%s", good, out)
		}
	}
}

func TestPostmortemOnThePageAndFeeds(t *testing.T) {
	snap := states()["auto-incident"]
	at := now.Add(-time.Minute)
	snap.Incidents[0].Postmortem = &sw.Postmortem{Markdown: hostile, PublishedAt: &at}
	for _, path := range []string{"/incidents/inc_auto", "/feed.xml", "/feed.rss"} {
		res, err := Render(snap, site, path)
		if err != nil {
			t.Fatal(err)
		}
		body := string(res.Body)
		if !strings.Contains(body, "What happened") || strings.Contains(body, "<script>alert") || strings.Contains(body, "javascript:") ||
			strings.Contains(body, "onerror=") {
			t.Errorf("%s: the post-mortem is missing or unsafe:\n%s", path, body)
		}
	}
	snap.Incidents[0].Postmortem.PublishedAt = nil // a draft: not shown
	res, _ := Render(snap, site, "/incidents/inc_auto")
	if strings.Contains(string(res.Body), "What happened") {
		t.Fatal("an unpublished post-mortem is on the page")
	}
}
