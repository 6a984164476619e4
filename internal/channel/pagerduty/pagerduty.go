// Package pagerduty drives a PagerDuty service through the Events API
// v2: an incident triggers an alert whose dedup key is the incident's id,
// its updates acknowledge it (identified, monitoring) or trigger it again
// (investigating), its resolution resolves it. The events are the
// PagerDuty Go client's V2Event types, so their fields are the API's.
package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// DefaultEndpoint is the Events API's base URL.
const DefaultEndpoint = "https://events.pagerduty.com"

// Sender sends events with the subscriber's routing key.
type Sender struct {
	Poster   *channel.Poster
	Endpoint string
}

// Send implements channel.Sender. Maintenance is not an alert: those
// events are delivered as nothing sent.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	e := Event(t.Credential, m)
	if e == nil {
		return channel.Result{}
	}
	body, err := json.Marshal(e)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	endpoint := strings.TrimSuffix(s.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	raw, r := s.Poster.PostJSON(ctx, endpoint+"/v2/enqueue", nil, body)
	var answer pd.V2EventResponse
	if json.Unmarshal(raw, &answer) == nil && r.Err == nil {
		r.Thread = answer.DedupKey
	}
	return r
}

// Event is m as an Events API v2 event, or nil for what is no alert.
func Event(routingKey string, m *channel.Message) *pd.V2Event {
	if strings.HasPrefix(m.Event, "maintenance.") {
		return nil
	}
	action := "trigger"
	switch {
	case m.Resolved:
		action = "resolve"
	case m.Event == sw.EventIncidentUpdated && m.Status != sw.StatusLabel(string(sw.Investigating)):
		action = "acknowledge"
	}
	e := &pd.V2Event{RoutingKey: routingKey, Action: action, DedupKey: "stormwatch-" + m.Subject, Client: m.Page + " status page", ClientURL: m.Link}
	if action == "trigger" {
		e.Payload = &pd.V2Payload{Summary: sw.Truncate(fmt.Sprintf("%s: %s", m.Title, m.ComponentList()), 1024), Source: m.Page,
			Severity: severity(m.Impact), Timestamp: m.At.UTC().Format(time.RFC3339), Component: sw.Truncate(m.ComponentList(), 255),
			Group: "status page", Class: "incident", Details: map[string]any{"status": m.Status, "impact": string(m.Impact), "update": m.Text, "link": m.Link}}
		e.Links = []any{map[string]string{"href": m.Link, "text": "Incident on the status page"}}
	}
	return e
}

// severity maps an incident's impact to PagerDuty's.
func severity(i sw.Impact) string {
	switch i {
	case sw.ImpactCritical:
		return "critical"
	case sw.ImpactMajor:
		return "error"
	case sw.ImpactMinor:
		return "warning"
	}
	return "info"
}
