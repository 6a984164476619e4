// Package opsgenie drives Opsgenie alerts through its Alert API: an
// incident creates an alert whose alias is the incident's id, its updates
// add a note (and acknowledge it once identified), its resolution closes
// it.
//
// The requests are typed structs with the Alert API's field names rather
// than opsgenie-go-sdk-v2: the SDK reaches only its fixed https hosts (no
// private installation, no test receiver), retries on its own beside the
// delivery log's retries, and brings logrus and retryablehttp.
package opsgenie

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// DefaultEndpoint is the Alert API's base URL (EU accounts use
// https://api.eu.opsgenie.com).
const DefaultEndpoint = "https://api.opsgenie.com"

// Sender sends with the subscriber's API key (an API integration's key).
type Sender struct {
	Poster   *channel.Poster
	Endpoint string
}

// CreateAlert is the Alert API's create request.
type CreateAlert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description,omitempty"`
	Priority    string            `json:"priority"`
	Source      string            `json:"source"`
	Entity      string            `json:"entity,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// Note is the body of the Alert API's acknowledge, close and add-note
// requests.
type Note struct {
	Source string `json:"source"`
	Note   string `json:"note"`
}

// Send implements channel.Sender. Maintenance is not an alert: those
// events are delivered as nothing sent.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	if strings.HasPrefix(m.Event, "maintenance.") {
		return channel.Result{}
	}
	endpoint := strings.TrimSuffix(s.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	header := http.Header{"Authorization": {"GenieKey " + t.Credential}}
	alias := "stormwatch-" + m.Subject
	path, body := Request(m)
	if path != "" {
		path = "/v2/alerts/" + url.PathEscape(alias) + "/" + path + "?identifierType=alias"
	} else {
		path = "/v2/alerts"
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	_, r := s.Poster.PostJSON(ctx, endpoint+path, header, raw)
	if r.Err == nil {
		r.Thread = alias
	}
	return r
}

// Request is what m asks of the Alert API: the action under the alert
// ("" creates it; "notes", "acknowledge", "close") and its body.
func Request(m *channel.Message) (string, any) {
	note := Note{Source: m.Page, Note: sw.Truncate(fmt.Sprintf("%s: %s", m.Status, m.Text), 25000)}
	switch {
	case m.Resolved:
		return "close", note
	case m.Event == sw.EventIncidentUpdated && m.Status == sw.StatusLabel(string(sw.Identified)):
		return "acknowledge", note
	case m.Event == sw.EventIncidentUpdated:
		return "notes", note
	}
	return "", &CreateAlert{Message: sw.Truncate(m.Title, 130), Alias: "stormwatch-" + m.Subject, Description: sw.Truncate(m.Text+"\n\n"+m.Link, 15000),
		Priority: priority(m.Impact), Source: sw.Truncate(m.Page, 100), Entity: sw.Truncate(m.ComponentList(), 512), Tags: []string{"stormwatch", "status-page"},
		Details: map[string]string{"status": m.Status, "impact": string(m.Impact), "components": m.ComponentList(), "link": m.Link}}
}

// priority maps an incident's impact to Opsgenie's P1 (highest) to P5.
func priority(i sw.Impact) string {
	switch i {
	case sw.ImpactCritical:
		return "P1"
	case sw.ImpactMajor:
		return "P2"
	case sw.ImpactMinor:
		return "P3"
	}
	return "P5"
}
