package inbound

import (
	"net"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// AlertmanagerMessage is Alertmanager's webhook payload, version 4, as
// its documentation gives it. (Its own Go type lives in the Alertmanager
// module, whose dependencies would more than double the server's.)
type AlertmanagerMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of the payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

var amSeverities = map[string]sw.Severity{"critical": sw.SeverityCritical, "page": sw.SeverityCritical, "high": sw.SeverityHigh,
	"error": sw.SeverityHigh, "major": sw.SeverityHigh, "warning": sw.SeverityMedium, "medium": sw.SeverityMedium, "minor": sw.SeverityMedium,
	"info": sw.SeverityLow, "low": sw.SeverityLow, "none": sw.SeverityLow}

// FromAlert turns one alert into a generic step: firing starts (or, once
// started, updates) the alert's signal, resolved ends it. Labels choose:
// component (slugs, comma-separated) the components instead of the
// node's, severity the severity (critical, high, warning, info…; default
// medium), attack a kind of attack the rules know (default: alert),
// target or instance the address.
func FromAlert(a *Alert, started bool) (*Event, error) {
	if a.Fingerprint == "" || len(a.Fingerprint) > 40 {
		return nil, sw.Invalid("alerts.fingerprint", "is required")
	}
	if a.StartsAt.IsZero() {
		return nil, sw.Invalid("alerts.startsAt", "is required")
	}
	key := a.Fingerprint + "-" + strconv.FormatInt(a.StartsAt.Unix(), 10)
	e := &Event{AttackID: key, Target: NoTarget, Classification: sw.VectorAlert, Severity: string(sw.SeverityMedium)}
	switch a.Status {
	case "firing":
		e.Type, e.ID = "started", key+"-firing"
		if started {
			e.Type = "updated"
		}
	case "resolved":
		e.Type, e.ID = "ended", key+"-resolved"
		if !a.EndsAt.IsZero() {
			e.At = a.EndsAt
		}
	default:
		return nil, sw.Invalid("alerts.status", "must be firing or resolved")
	}
	if s, ok := amSeverities[strings.ToLower(a.Labels["severity"])]; ok {
		e.Severity = string(s)
	}
	if v := strings.ToLower(a.Labels["attack"]); v != "" {
		e.Classification = v
	}
	for _, label := range []string{"target", "instance"} {
		host := a.Labels[label]
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if validTarget(host) {
			e.Target = host
			break
		}
	}
	for c := range strings.SplitSeq(a.Labels["component"], ",") {
		if c = strings.TrimSpace(c); c != "" {
			e.Components = append(e.Components, c)
		}
	}
	e.Title = "Alert " + a.Labels["alertname"]
	if s := a.Annotations["summary"]; s != "" {
		e.Title += ": " + s
	}
	e.Title = sw.Truncate(e.Title, sw.MaxTitleLen)
	return e, nil
}
