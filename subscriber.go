package stormwatch

import "time"

// Subscriber kinds.
const (
	SubscriberEmail   = "email"
	SubscriberWebhook = "webhook"
)

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
	// PageRoot is the page URL the subscriber signed up on; links in mails
	// point there.
	PageRoot  string    `json:"page_root,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
