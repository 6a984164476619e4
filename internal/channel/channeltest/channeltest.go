// Package channeltest runs local receivers that accept a chat or on-call
// tool's requests as the real service would: each decodes the message
// with the same library the sender uses (or checks it against the
// service's documented limits), answers like the service, refuses what
// the service would refuse with the service's kind of error, and records
// what it accepted. A receiver can be told to fail its first requests
// with 500, to test retries.
package channeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
	"github.com/bwmarrin/discordgo"
	"github.com/slack-go/slack"
	"github.com/stormwatch/stormwatch/internal/channel/opsgenie"
	"github.com/stormwatch/stormwatch/internal/channel/telegram"
	"golang.org/x/net/html"
)

// Kinds of receiver.
const (
	Slack      = "slack"      // Block Kit
	Compatible = "compatible" // Mattermost, Rocket.Chat: attachments
	Discord    = "discord"
	Teams      = "teams"
	Telegram   = "telegram"
	PagerDuty  = "pagerduty"
	Opsgenie   = "opsgenie"
)

// Accepted is one request the receiver accepted.
type Accepted struct {
	Path    string
	Query   string
	Header  http.Header
	Body    []byte
	Decoded any // the library's type the body decoded into
}

// Receiver is a local stand-in for one tool.
type Receiver struct {
	*httptest.Server
	Kind string
	mu   sync.Mutex
	fail int // requests still to fail with 500
	got  []Accepted
	// Refused counts requests refused as invalid.
	Refused int
	nextID  int
}

// New starts a receiver of kind that fails its first fail requests with
// 500.
func New(t testing.TB, kind string, fail int) *Receiver {
	r := &Receiver{Kind: kind, fail: fail, nextID: 1000}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// Accepted returns what was accepted so far.
func (r *Receiver) Accepted() []Accepted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Accepted(nil), r.got...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		r.Refused++
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	decoded, status, answer, err := r.check(req, body)
	if err != nil {
		r.Refused++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
		return
	}
	r.got = append(r.got, Accepted{Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body, Decoded: decoded})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

func strict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func jsonAnswer(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// check validates a request as the service would; it returns what the
// body decoded into, the status and body to answer, and why it refuses.
func (r *Receiver) check(req *http.Request, body []byte) (any, int, []byte, error) {
	bad := func(status int, answer []byte, format string, args ...any) (any, int, []byte, error) {
		return nil, status, answer, fmt.Errorf(format, args...)
	}
	switch r.Kind {
	case Slack, Compatible:
		var m slack.WebhookMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return bad(400, []byte("invalid_payload"), "%v", err)
		}
		if err := checkSlack(&m, r.Kind == Slack); err != nil {
			return bad(400, []byte("invalid_blocks"), "%v", err)
		}
		return &m, 200, []byte("ok"), nil
	case Discord:
		var p discordgo.WebhookParams
		if err := strict(body, &p); err != nil {
			return bad(400, jsonAnswer(map[string]any{"code": 50109, "message": "The request body contains invalid JSON."}), "%v", err)
		}
		if err := checkDiscord(&p); err != nil {
			return bad(400, jsonAnswer(map[string]any{"code": 50035, "message": "Invalid Form Body: " + err.Error()}), "%v", err)
		}
		r.nextID++
		if req.URL.Query().Get("wait") == "true" {
			return &p, 200, jsonAnswer(map[string]any{"id": fmt.Sprint(r.nextID), "type": 0, "content": p.Content}), nil
		}
		return &p, 204, nil, nil
	case Teams:
		var m adaptivecard.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return bad(400, []byte(`{"error":{"code":"InvalidRequestContent"}}`), "%v", err)
		}
		if err := checkTeams(&m); err != nil {
			return bad(400, []byte(`{"error":{"code":"InvalidRequestContent","message":"`+err.Error()+`"}}`), "%v", err)
		}
		return &m, 202, nil, nil
	case Telegram:
		return r.checkTelegram(req, body)
	case PagerDuty:
		var e pd.V2Event
		if err := strict(body, &e); err != nil || req.URL.Path != "/v2/enqueue" {
			return bad(400, jsonAnswer(map[string]any{"status": "invalid event", "message": "Event object is invalid"}), "%v %s", err, req.URL.Path)
		}
		if err := checkPagerDuty(&e); err != nil {
			return bad(400, jsonAnswer(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{err.Error()}}), "%v", err)
		}
		return &e, 202, jsonAnswer(pd.V2EventResponse{Status: "success", Message: "Event processed", DedupKey: e.DedupKey}), nil
	case Opsgenie:
		return r.checkOpsgenie(req, body)
	}
	return bad(500, nil, "unknown receiver kind %s", r.Kind)
}

func checkSlack(m *slack.WebhookMessage, blocks bool) error {
	if m.Text == "" {
		return fmt.Errorf("no text: notifications and clients without blocks show nothing")
	}
	if !blocks {
		if len(m.Attachments) == 0 || m.Attachments[0].Title == "" || !strings.HasPrefix(m.Attachments[0].TitleLink, "http") ||
			!regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(m.Attachments[0].Color) {
			return fmt.Errorf("attachment without title, link or colour")
		}
		return nil
	}
	if m.Blocks == nil || len(m.Blocks.BlockSet) == 0 || len(m.Blocks.BlockSet) > 50 {
		return fmt.Errorf("1 to 50 blocks")
	}
	for i, b := range m.Blocks.BlockSet {
		switch v := b.(type) {
		case *slack.HeaderBlock:
			if v.Text == nil || v.Text.Type != slack.PlainTextType || utf8.RuneCountInString(v.Text.Text) > 150 {
				return fmt.Errorf("block %d: a header is plain text of at most 150 characters", i)
			}
		case *slack.SectionBlock:
			if v.Text == nil && len(v.Fields) == 0 || len(v.Fields) > 10 {
				return fmt.Errorf("block %d: a section has text or 1 to 10 fields", i)
			}
			for _, f := range append(v.Fields, v.Text) {
				if f != nil && utf8.RuneCountInString(f.Text) > 3000 {
					return fmt.Errorf("block %d: text over 3000 characters", i)
				}
			}
		case *slack.ActionBlock:
			for _, e := range v.Elements.ElementSet {
				btn, ok := e.(*slack.ButtonBlockElement)
				if !ok || btn.Text == nil || btn.Text.Type != slack.PlainTextType || !strings.HasPrefix(btn.URL, "http") {
					return fmt.Errorf("block %d: a button needs plain text and a URL", i)
				}
			}
		case *slack.ContextBlock:
			if len(v.ContextElements.Elements) == 0 || len(v.ContextElements.Elements) > 10 {
				return fmt.Errorf("block %d: a context has 1 to 10 elements", i)
			}
		default:
			return fmt.Errorf("block %d: unexpected block type %T", i, b)
		}
	}
	return nil
}

func checkDiscord(p *discordgo.WebhookParams) error {
	if p.Content == "" && len(p.Embeds) == 0 {
		return fmt.Errorf("content or embeds: Cannot send an empty message")
	}
	if len(p.Embeds) > 10 || utf8.RuneCountInString(p.Username) > 80 {
		return fmt.Errorf("at most 10 embeds and a username of 80 characters")
	}
	total := 0
	for _, e := range p.Embeds {
		if utf8.RuneCountInString(e.Title) > 256 || utf8.RuneCountInString(e.Description) > 4096 || len(e.Fields) > 25 || e.Color < 0 || e.Color > 0xffffff {
			return fmt.Errorf("embeds: title ≤ 256, description ≤ 4096, ≤ 25 fields, colour 0-0xffffff")
		}
		total += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" || utf8.RuneCountInString(f.Name) > 256 || utf8.RuneCountInString(f.Value) > 1024 {
				return fmt.Errorf("embeds.fields: name 1-256 and value 1-1024 characters")
			}
			total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		}
	}
	if total > 6000 {
		return fmt.Errorf("embeds: at most 6000 characters in all")
	}
	if p.AllowedMentions == nil || len(p.AllowedMentions.Parse) != 0 {
		return fmt.Errorf("allowed_mentions must be set to parse nothing for text from outside")
	}
	return nil
}

func checkTeams(m *adaptivecard.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		return fmt.Errorf("a message with one Adaptive Card attachment")
	}
	c := m.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version == "" || len(c.Body) == 0 {
		return fmt.Errorf("the attachment holds no Adaptive Card")
	}
	return nil
}

// telegramTags are the tags Telegram's HTML parse mode accepts.
var telegramTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "a": true, "code": true, "pre": true, "span": true, "tg-spoiler": true, "blockquote": true}

var tokenPath = regexp.MustCompile(`^/bot([0-9]+:[A-Za-z0-9_-]+)/sendMessage$`)

func (r *Receiver) checkTelegram(req *http.Request, body []byte) (any, int, []byte, error) {
	fail := func(code int, desc string) (any, int, []byte, error) {
		return nil, code, jsonAnswer(map[string]any{"ok": false, "error_code": code, "description": desc}), fmt.Errorf("%s", desc)
	}
	if !tokenPath.MatchString(req.URL.Path) {
		return fail(404, "Not Found")
	}
	var m telegram.SendMessage
	if err := strict(body, &m); err != nil {
		return fail(400, "Bad Request: "+err.Error())
	}
	if m.ChatID == "" || m.Text == "" || utf8.RuneCountInString(m.Text) > 4096 {
		return fail(400, "Bad Request: chat_id and text of 1-4096 characters are required")
	}
	if m.ParseMode != "HTML" {
		return fail(400, "Bad Request: parse_mode")
	}
	z := html.NewTokenizer(strings.NewReader(m.Text))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken {
			name, _ := z.TagName()
			if !telegramTags[string(name)] {
				return fail(400, "Bad Request: can't parse entities: Unsupported start tag \""+string(name)+"\"")
			}
		}
	}
	r.nextID++
	return &m, 200, jsonAnswer(map[string]any{"ok": true, "result": map[string]any{"message_id": r.nextID, "chat": map[string]any{"id": m.ChatID}}}), nil
}

func checkPagerDuty(e *pd.V2Event) error {
	if len(e.RoutingKey) != 32 {
		return fmt.Errorf("routing_key must be 32 characters")
	}
	switch e.Action {
	case "trigger":
		p := e.Payload
		if p == nil || p.Summary == "" || utf8.RuneCountInString(p.Summary) > 1024 || p.Source == "" {
			return fmt.Errorf("a trigger needs payload.summary (1-1024) and payload.source")
		}
		switch p.Severity {
		case "critical", "error", "warning", "info":
		default:
			return fmt.Errorf("payload.severity must be critical, error, warning or info")
		}
	case "acknowledge", "resolve":
		if e.DedupKey == "" {
			return fmt.Errorf("%s needs the dedup_key of the alert", e.Action)
		}
	default:
		return fmt.Errorf("event_action must be trigger, acknowledge or resolve")
	}
	if len(e.DedupKey) > 255 {
		return fmt.Errorf("dedup_key at most 255 characters")
	}
	return nil
}

var aliasAction = regexp.MustCompile(`^/v2/alerts/([^/]+)/(close|acknowledge|notes)$`)

func (r *Receiver) checkOpsgenie(req *http.Request, body []byte) (any, int, []byte, error) {
	fail := func(code int, msg string) (any, int, []byte, error) {
		return nil, code, jsonAnswer(map[string]any{"message": msg, "took": 0.001, "requestId": "test"}), fmt.Errorf("%s", msg)
	}
	if !regexp.MustCompile(`^GenieKey [A-Za-z0-9_-]{20,}$`).MatchString(req.Header.Get("Authorization")) {
		return fail(401, "Could not authenticate")
	}
	ok := jsonAnswer(map[string]any{"result": "Request will be processed", "took": 0.01, "requestId": fmt.Sprint(r.nextID)})
	r.nextID++
	if req.URL.Path == "/v2/alerts" {
		var a opsgenie.CreateAlert
		if err := strict(body, &a); err != nil {
			return fail(422, err.Error())
		}
		if a.Message == "" || utf8.RuneCountInString(a.Message) > 130 || len(a.Alias) > 512 || utf8.RuneCountInString(a.Description) > 15000 {
			return fail(422, "Message can not be empty or longer than 130 characters")
		}
		if !regexp.MustCompile(`^P[1-5]$`).MatchString(a.Priority) {
			return fail(422, "Priority should be one of [P1, P2, P3, P4, P5]")
		}
		return &a, 202, ok, nil
	}
	m := aliasAction.FindStringSubmatch(req.URL.Path)
	if m == nil || req.URL.Query().Get("identifierType") != "alias" {
		return fail(404, "Alert not found")
	}
	var n opsgenie.Note
	if err := strict(body, &n); err != nil || utf8.RuneCountInString(n.Note) > 25000 {
		return fail(422, "invalid note")
	}
	return &n, 202, ok, nil
}
