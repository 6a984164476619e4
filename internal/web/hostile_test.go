package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"html"
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// hostile is incident text an attacker or a careless operator might
// write: markup, a word longer than any screen, right-to-left override
// and mark, quotes, an ampersand and an emoji.
var hostile = struct{ title, message string }{
	title:   "<script>alert(1)</script> \u202eevil\u202c \"quoted\" & 'single' 🌩",
	message: "<img src=x onerror=alert(2)> " + strings.Repeat("Supercalifragilistic", 40) + " \u200fעברית\u200f <b>bold?</b>",
}

// TestHostileTextEscapedAndIntact: the text arrives everywhere exactly as
// written — HTML escapes it (no tag of it is live), JSON, Atom and RSS
// carry it byte for byte, and mail shows it as text.
func TestHostileTextEscapedAndIntact(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	s.api("POST", "/api/v1/components", `{"name":"Edge","slug":"edge"}`)
	raw, _ := json.Marshal(map[string]any{"title": hostile.title, "message": hostile.message, "impact": "major",
		"components": map[string]string{"edge": "major_outage"}})
	s.api("POST", "/api/v1/incidents", string(raw))

	// HTML: escaped, never live.
	page := body(t, s.get("status.test:8080", "/s/acme/"))
	for _, live := range []string{"<script>alert(1)", "<img src=x", "<b>bold?</b>"} {
		if strings.Contains(page, live) {
			t.Errorf("the page carries live markup %q", live)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;",
		strings.Repeat("Supercalifragilistic", 40), "\u202eevil\u202c", "\u200fעברית\u200f", "🌩", "&amp;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("the page lacks %q", escaped)
		}
	}

	// JSON (Statuspage API): the very same strings.
	var incs struct {
		Incidents []struct {
			Name            string `json:"name"`
			IncidentUpdates []struct {
				Body string `json:"body"`
			} `json:"incident_updates"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(body(t, s.get("status.test:8080", "/s/acme/api/v2/incidents.json"))), &incs); err != nil {
		t.Fatal(err)
	}
	if len(incs.Incidents) != 1 || incs.Incidents[0].Name != hostile.title || incs.Incidents[0].IncidentUpdates[0].Body != hostile.message {
		t.Errorf("JSON changed the text: %+v", incs)
	}

	// Atom and RSS: well-formed XML; titles are the text itself, entry
	// bodies are HTML in which the text is escaped once (a reader shows
	// it as written and runs none of it).
	var atom struct {
		Entries []struct {
			Title   string `xml:"title"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body(t, s.get("status.test:8080", "/s/acme/feed.xml"))), &atom); err != nil {
		t.Fatalf("Atom is not XML: %v", err)
	}
	if len(atom.Entries) == 0 || !strings.Contains(atom.Entries[0].Title, hostile.title) || !strings.Contains(atom.Entries[0].Content, html.EscapeString(hostile.message)) {
		t.Errorf("Atom changed the text: %+v", atom.Entries)
	}
	var rss struct {
		Items []struct {
			Title       string `xml:"title"`
			Description string `xml:"description"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal([]byte(body(t, s.get("status.test:8080", "/s/acme/feed.rss"))), &rss); err != nil {
		t.Fatalf("RSS is not XML: %v", err)
	}
	if len(rss.Items) == 0 || !strings.Contains(rss.Items[0].Title, hostile.title) || !strings.Contains(rss.Items[0].Description, html.EscapeString(hostile.message)) {
		t.Errorf("RSS changed the text: %+v", rss.Items)
	}

	// Mail: the text part has it as written, the HTML part escaped.
	incidents, _, err := s.store.Incidents(context.Background(), s.ws, store.IncidentFilter{}, store.Page{})
	if err != nil || len(incidents) != 1 {
		t.Fatal(err)
	}
	ws, _ := s.store.Workspace(context.Background(), s.ws)
	ev := &sw.NotificationEvent{ID: "evt_1", Kind: sw.EventIncidentCreated, WorkspaceID: s.ws, Incident: &incidents[0], At: time.Now()}
	sub := &sw.Subscriber{ID: "sub_1", Type: sw.SubscriberEmail, Email: "ops@example.com"}
	m, err := notify.ComposeMail(ev, "msg_1", sub, notify.MailContext{Workspace: ws, Root: "https://status.acme.example",
		From: "status@acme.example", Links: notify.Links{Key: []byte("k")}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, hostile.title) || !strings.Contains(m.Text, hostile.message) {
		t.Errorf("mail text changed the text:\nsubject %q\n%s", m.Subject, m.Text)
	}
	if strings.Contains(m.HTML, "<script>alert(1)") || strings.Contains(m.HTML, "<img src=x") || !strings.Contains(m.HTML, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("mail HTML is not escaped:\n%s", m.HTML)
	}
}
