// Package channel tells chat rooms and on-call tools about incidents and
// maintenance: one package per tool below this one (slack, discord,
// teams, telegram, pagerduty, opsgenie) builds the tool's message and
// reads its answer, behind the one Sender interface that the delivery
// worker calls as it calls the mailer and the webhook sender, so that
// retries, the delivery log, the SSRF guard and fan-out stay in one
// place.
package channel

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/notify"
)

// Message is a notification in the words every tool shows: what
// happened, to what, how bad, the latest word, and where to read more.
type Message struct {
	Event    string // incident.created, …, maintenance.started
	Page     string // the status page's name
	Title    string
	Status   string // "Investigating", "Resolved", "In progress", …
	Impact   sw.Impact
	Severity sw.Severity
	// Components names the affected components.
	Components []string
	Text       string // the latest update, or the maintenance's message
	Link       string // the incident or window on the page's own host
	// Subject is the incident's or window's id: updates of one subject
	// thread together where the tool can (PagerDuty's dedup key, a
	// Telegram reply, Opsgenie's alias).
	Subject  string
	Resolved bool // the incident resolved or the window completed
	At       time.Time
	// Test is a sample sent from the dashboard's test button.
	Test bool
}

// Headline is the message's first line: "[Resolved] DDoS attack …".
func (m *Message) Headline() string {
	if m.Test {
		return "Test message from " + m.Page
	}
	return fmt.Sprintf("[%s] %s", m.Status, m.Title)
}

// ComponentList names the components, or says none are.
func (m *Message) ComponentList() string {
	if len(m.Components) == 0 {
		return "none listed"
	}
	return strings.Join(m.Components, ", ")
}

// ImpactLabel is the impact in words.
func (m *Message) ImpactLabel() string {
	switch m.Impact {
	case sw.ImpactCritical:
		return "Critical"
	case sw.ImpactMajor:
		return "Major"
	case sw.ImpactMinor:
		return "Minor"
	}
	return "None"
}

// Color is the message's colour as RGB: green when it is over, blue for
// maintenance, else by impact from grey to red.
func (m *Message) Color() int {
	switch {
	case m.Resolved:
		return 0x1a7f37
	case strings.HasPrefix(m.Event, "maintenance."):
		return 0x0969da
	}
	switch m.Impact {
	case sw.ImpactCritical:
		return 0xcf222e
	case sw.ImpactMajor:
		return 0xe16f24
	case sw.ImpactMinor:
		return 0xd4a72c
	}
	return 0x8c959f
}

// Hex is Color as "#rrggbb".
func (m *Message) Hex() string { return fmt.Sprintf("#%06x", m.Color()) }

// FromEvent puts an event into a Message; root is the page's URL and
// names maps component slugs to names.
func FromEvent(ev *sw.NotificationEvent, page, root string, names map[string]string) *Message {
	m := &Message{Event: ev.Kind, Page: page, At: ev.At}
	name := func(slug string) string {
		if n, ok := names[slug]; ok {
			return n
		}
		return slug
	}
	switch {
	case ev.Incident != nil:
		inc := ev.Incident
		m.Title, m.Status, m.Impact, m.Severity = inc.Title, sw.StatusLabel(string(inc.Status)), inc.Impact, inc.Severity
		m.Text, m.Link, m.Subject = notify.LatestMessage(inc), root+"/incidents/"+inc.ID, inc.ID
		m.Resolved = inc.Status == sw.Resolved
		for _, c := range inc.Components {
			m.Components = append(m.Components, c.Name)
		}
	case ev.Maintenance != nil:
		mt := ev.Maintenance
		m.Title, m.Status, m.Text = mt.Title, sw.StatusLabel(string(mt.State)), mt.Message
		m.Link, m.Subject, m.Resolved = root+"/maintenance/"+mt.ID, mt.ID, mt.State == sw.MaintenanceCompleted
		for _, slug := range mt.Components {
			m.Components = append(m.Components, name(slug))
		}
		if ev.Kind == sw.EventMaintenanceScheduled || ev.Kind == sw.EventMaintenanceReminder {
			m.Text = strings.TrimSpace(fmt.Sprintf("Scheduled for %s to %s UTC. %s",
				mt.StartsAt.UTC().Format("Jan 2 15:04"), mt.EndsAt.UTC().Format("Jan 2 15:04"), mt.Message))
		}
	}
	return m
}

// Sample is the message the dashboard's test button sends.
func Sample(page, root string) *Message {
	return &Message{Event: sw.EventIncidentCreated, Page: page, Title: "Test notification", Status: "Investigating",
		Impact: sw.ImpactMinor, Components: []string{"Example component"}, Link: root, Subject: "test",
		Text: "This is a test from " + page + ": notifications reach this channel.", At: time.Now(), Test: true}
}

// Target is where a subscriber's messages go and how to authenticate.
type Target struct {
	URL        string // the incoming webhook (chat tools)
	Credential string // bot token, routing key or API key (API tools)
	ChatID     string // Telegram
	// Thread is what the tool answered to this subject's first message
	// (a Telegram message id), to reply to; empty for the first.
	Thread string
}

// Result is how a send went.
type Result struct {
	Status int
	// Permanent says retrying cannot help (credentials or payload
	// refused, address internal).
	Permanent bool
	// Thread is the tool's id of the message sent, kept to thread the
	// subject's next messages.
	Thread string
	Err    error
}

// Sender sends one message to one target.
type Sender interface {
	Send(ctx context.Context, t Target, m *Message) Result
}

// Poster posts JSON through the SSRF-guarded client and classifies the
// answer the same way for every tool.
type Poster struct {
	Client *http.Client
}

// NewPoster posts with the webhook sender's guarded client.
func NewPoster(s *notify.WebhookSender) *Poster { return &Poster{Client: s.Client()} }

// PostJSON posts body to url with header and returns the answer's body
// (up to 64 KiB): 2xx is success; 408, 429 and 5xx are worth retrying;
// other 4xx are permanent (the tool refused the credentials or the
// message).
func (p *Poster) PostJSON(ctx context.Context, url string, header http.Header, body []byte) ([]byte, Result) {
	return p.Do(ctx, http.MethodPost, url, "application/json", header, body)
}

// Do sends a request with a body of contentType and classifies the
// answer as PostJSON does.
func (p *Poster) Do(ctx context.Context, method, url, contentType string, header http.Header, body []byte) ([]byte, Result) {
	return do(ctx, p.Client, method, url, contentType, header, body)
}
