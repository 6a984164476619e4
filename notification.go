package stormwatch

import (
	"slices"
	"time"
)

// Notification event kinds. The first seven are CONTRACT.md's webhook
// events; the last is the double opt-in mail, sent to one subscriber.
const (
	EventIncidentCreated      = "incident.created"
	EventIncidentUpdated      = "incident.updated"
	EventIncidentResolved     = "incident.resolved"
	EventMaintenanceScheduled = "maintenance.scheduled"
	EventMaintenanceReminder  = "maintenance.reminder"
	EventMaintenanceStarted   = "maintenance.started"
	EventMaintenanceCompleted = "maintenance.completed"
	EventSubscriptionConfirm  = "subscription.confirm"
)

// Webhook payload formats a subscriber chooses from.
const (
	FormatStormwatch = "stormwatch"
	FormatStatuspage = "statuspage"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after retrying for a day, or the subscriber went away
)

// Rank orders impacts: none 0 … critical 3, unknown -1. Minimum impacts of
// subscribers compare against it.
func (i Impact) Rank() int { return slices.Index(Impacts, i) }

// NotificationEvent is what subscribers are told: the incident or
// maintenance window as it was when the event happened (not as it is when
// a retry goes out), so every recipient hears the same thing.
type NotificationEvent struct {
	ID          string       `json:"id"`
	WorkspaceID string       `json:"-"`
	Kind        string       `json:"event"`
	Incident    *Incident    `json:"incident,omitempty"`
	Maintenance *Maintenance `json:"maintenance,omitempty"`
	Subscriber  *Subscriber  `json:"subscriber,omitempty"`
	// Reminder is how long before the window starts a reminder is sent.
	Reminder string    `json:"reminder,omitempty"`
	At       time.Time `json:"at"`
}

// Delivery is one event on its way to one subscriber. Its id is the
// Standard Webhooks webhook-id and the mail's Message-ID: the same on every
// attempt, so receivers can drop repeats.
type Delivery struct {
	ID           string     `json:"id"`
	WorkspaceID  string     `json:"-"`
	EventID      string     `json:"event_id"`
	Event        string     `json:"event"`
	SubscriberID string     `json:"subscriber_id"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	NextAttempt  *time.Time `json:"next_attempt_at"`
	LastError    string     `json:"last_error"`
	CreatedAt    time.Time  `json:"created_at"`
	DeliveredAt  *time.Time `json:"delivered_at"`
}

// DeliveryAttempt is one try of a delivery, as the delivery log shows it.
type DeliveryAttempt struct {
	DeliveryID string    `json:"delivery_id"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	DurationMS float64   `json:"duration_ms"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
}
