// Package telegram sends messages through a Telegram bot (Bot API
// sendMessage, HTML parse mode); an incident's updates reply to its
// first message, so a chat reads them as one thread.
//
// The request is a typed struct with the Bot API's own field names rather
// than go-telegram-bot-api: that library's client calls getMe whenever it
// is made and encodes requests only as form values through unexported
// methods, and its last release predates reply_parameters.
package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// DefaultEndpoint is the Bot API's base URL.
const DefaultEndpoint = "https://api.telegram.org"

// Sender sends as the subscriber's bot.
type Sender struct {
	Poster   *channel.Poster
	Endpoint string // DefaultEndpoint unless --integration-endpoint telegram=URL
}

// SendMessage is the Bot API's sendMessage request.
type SendMessage struct {
	ChatID              string           `json:"chat_id"`
	Text                string           `json:"text"`
	ParseMode           string           `json:"parse_mode"`
	LinkPreview         *LinkPreview     `json:"link_preview_options,omitempty"`
	ReplyParameters     *ReplyParameters `json:"reply_parameters,omitempty"`
	DisableNotification bool             `json:"disable_notification,omitempty"`
}

// LinkPreview is the Bot API's LinkPreviewOptions.
type LinkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// ReplyParameters is the Bot API's ReplyParameters.
type ReplyParameters struct {
	MessageID                int  `json:"message_id"`
	AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
}

// Answer is the Bot API's reply envelope.
type Answer struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Result      struct {
		MessageID int `json:"message_id"`
	} `json:"result"`
}

// Send implements channel.Sender.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	req := Request(t.ChatID, m)
	if id, err := strconv.Atoi(t.Thread); err == nil && id > 0 {
		req.ReplyParameters = &ReplyParameters{MessageID: id, AllowSendingWithoutReply: true}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	endpoint := strings.TrimSuffix(s.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	raw, r := s.Poster.PostJSON(ctx, endpoint+"/bot"+t.Credential+"/sendMessage", nil, body)
	var a Answer
	if err := json.Unmarshal(raw, &a); err == nil && !a.OK && r.Err != nil {
		r.Err = fmt.Errorf("telegram answered %d: %s", r.Status, a.Description)
	}
	if r.Err == nil {
		if !a.OK {
			return channel.Result{Status: r.Status, Err: fmt.Errorf("telegram did not accept the message: %s", a.Description)}
		}
		r.Thread = strconv.Itoa(a.Result.MessageID)
	}
	// The token is part of the URL: never let it reach the delivery log.
	if r.Err != nil && t.Credential != "" {
		r.Err = fmt.Errorf("%s", strings.ReplaceAll(r.Err.Error(), t.Credential, "…"))
	}
	return r
}

// Request is m as a sendMessage request in HTML parse mode, user text
// escaped.
func Request(chat string, m *channel.Message) *SendMessage {
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s</b>\n", html.EscapeString(m.Headline()))
	fmt.Fprintf(&b, "Status: %s · Impact: %s\nComponents: %s\n", html.EscapeString(m.Status), m.ImpactLabel(), html.EscapeString(m.ComponentList()))
	if m.Text != "" {
		fmt.Fprintf(&b, "\n%s\n", html.EscapeString(sw.Truncate(m.Text, 3000)))
	}
	fmt.Fprintf(&b, "\n<a href=\"%s\">View on %s</a>", html.EscapeString(m.Link), html.EscapeString(m.Page))
	return &SendMessage{ChatID: chat, Text: b.String(), ParseMode: "HTML", LinkPreview: &LinkPreview{IsDisabled: true}}
}
