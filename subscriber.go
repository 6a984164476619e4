package stormwatch

import (
	"strings"
	"time"
)

// Subscriber kinds.
const (
	SubscriberEmail   = "email"
	SubscriberWebhook = "webhook"
	// Chat tools' incoming webhooks (url).
	SubscriberSlack      = "slack"
	SubscriberDiscord    = "discord"
	SubscriberTeams      = "teams"
	SubscriberMattermost = "mattermost"
	SubscriberRocketChat = "rocketchat"
	// Tools reached through their API with a credential.
	SubscriberTelegram  = "telegram"  // bot_token, chat_id
	SubscriberPagerDuty = "pagerduty" // routing_key
	SubscriberOpsgenie  = "opsgenie"  // api_key
)

// SubscriberTypes lists every kind, in the order forms offer them.
var SubscriberTypes = []string{SubscriberEmail, SubscriberWebhook, SubscriberSlack, SubscriberDiscord, SubscriberTeams,
	SubscriberMattermost, SubscriberRocketChat, SubscriberTelegram, SubscriberPagerDuty, SubscriberOpsgenie}

// ChatWebhook reports whether kind posts to a chat tool's incoming
// webhook URL.
func ChatWebhook(kind string) bool {
	switch kind {
	case SubscriberSlack, SubscriberDiscord, SubscriberTeams, SubscriberMattermost, SubscriberRocketChat:
		return true
	}
	return false
}

// ValidSubscriberType reports whether kind is a known subscriber kind.
func ValidSubscriberType(kind string) bool {
	for _, k := range SubscriberTypes {
		if k == kind {
			return true
		}
	}
	return false
}

// Subscriber is someone told about incidents and maintenance: an email
// address (after double opt-in) or a webhook URL, for all components or a
// chosen set.
type Subscriber struct {
	ID          string   `json:"id"`
	WorkspaceID string   `json:"-"`
	Type        string   `json:"type"`
	Email       string   `json:"email,omitempty"`
	URL         string   `json:"url,omitempty"`
	Components  []string `json:"components"`
	MinImpact   Impact   `json:"min_impact"`
	// Format is the webhook payload: stormwatch (default) or statuspage.
	Format      string     `json:"format,omitempty"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
	// DisabledReason says why deliveries stopped (failing for a day,
	// unsubscribed).
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Operator marks an operators' alert channel: it hears the admin
	// notices (drafts waiting, attacks not published, disabled
	// subscribers, failing domains), not the public incidents.
	Operator bool `json:"operator"`
	// ChatID is a Telegram subscriber's chat.
	ChatID string `json:"chat_id,omitempty"`
	// PageRoot is the page URL the subscriber signed up on; links in mails
	// point there.
	PageRoot string `json:"page_root,omitempty"`
	// Language is the language the subscriber subscribed in: their mails
	// speak it ("" for the page's default).
	Language  string    `json:"language,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Fill sets what a stored subscriber's columns imply: a Telegram
// subscriber's chat is named in its URL ("telegram:<chat>").
func (s *Subscriber) Fill() {
	if s.Type == SubscriberTelegram {
		s.ChatID = strings.TrimPrefix(s.URL, "telegram:")
	}
}
