package page

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

func TestBadgesSayTheStatusInItsColour(t *testing.T) {
	tests := []struct {
		status        sw.ComponentStatus
		page, message string
		color         string
	}{
		{sw.Operational, "operational", "operational", "#4c1"},
		{sw.DegradedPerformance, "degraded", "degraded performance", "#dfb317"},
		{sw.PartialOutage, "partial outage", "partial outage", "#fe7d37"},
		{sw.MajorOutage, "major outage", "major outage", "#e05d44"},
		{sw.UnderMaintenance, "maintenance", "under maintenance", "#007ec6"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			snap := fixture()
			setStatus(snap, "cmp_web", tt.status, now.Add(-time.Minute))
			for _, r := range []struct {
				path, text string
			}{{"/badge.svg", "status: " + tt.page}, {"/components/website/badge.svg", "Website: " + tt.message}} {
				res, err := Render(snap, site, r.path)
				if err != nil {
					t.Fatal(err)
				}
				var doc struct {
					Label string `xml:"aria-label,attr"`
					Title string `xml:"title"`
					Rects []struct {
						Fill string `xml:"fill,attr"`
					} `xml:"g>rect"`
				}
				if err := xml.Unmarshal(res.Body, &doc); err != nil {
					t.Fatalf("%s is not well-formed SVG: %v", r.path, err)
				}
				if res.ContentType != TypeSVG || doc.Label != r.text || doc.Title != r.text || len(doc.Rects) < 2 || doc.Rects[1].Fill != tt.color {
					t.Errorf("%s: %s %+v, want %q in %s", r.path, res.ContentType, doc, r.text, tt.color)
				}
			}
		})
	}
	if _, err := Render(fixture(), site, "/components/nope/badge.svg"); err != ErrNotFound {
		t.Fatalf("unknown component badge: %v", err)
	}
}

func TestBadgeEscapesNames(t *testing.T) {
	snap := fixture()
	snap.Components[0].Name = `<script>"&`
	res, err := Render(snap, site, "/components/website/badge.svg")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Body), "<script>") || xml.Unmarshal(res.Body, new(struct{})) != nil {
		t.Fatalf("badge with a hostile name: %s", res.Body)
	}
}

func TestEmbedScriptHasTheRoot(t *testing.T) {
	res, err := Render(fixture(), site, "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), `var root = "https://status.example.com/s/acme"`) || len(res.Body) > 4096 {
		t.Fatalf("embed.js (%d bytes): %s", len(res.Body), res.Body)
	}
}
