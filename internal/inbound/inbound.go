// Package inbound turns what other detectors send — a documented generic
// event, FastNetMon's notify script, Prometheus Alertmanager's webhook —
// into the attack events the agent sends, so that they go through the
// same rules, audit log and automation. It is pure: the caller looks up
// what exists and stores what comes out.
package inbound

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Event is the generic inbound format: a detector's step of an attack or
// an alert, named by the sender's own ids.
type Event struct {
	// ID is unique per step and stable across the sender's retries: a
	// repeat is recognised and ignored.
	ID string `json:"id"`
	// AttackID names the attack (or alert) the step belongs to.
	AttackID string `json:"attack_id"`
	// Type is started, updated, mitigating or ended (or attack.started, …).
	Type string `json:"type"`
	// Target is the attacked IP address or prefix.
	Target         string    `json:"target"`
	At             time.Time `json:"at"`       // default: when the server got it
	Severity       string    `json:"severity"` // low, medium (default), high, critical
	Classification string    `json:"classification"`
	Title          string    `json:"title"`
	PPS            uint64    `json:"pps"`
	BPS            uint64    `json:"bps"`
	// Components, when given, are the slugs of the components affected
	// instead of the node's.
	Components []string `json:"components"`
}

var phases = map[string]string{sw.EventStarted: sw.PhaseDetected, sw.EventUpdated: sw.PhaseDetected,
	sw.EventMitigating: sw.PhaseMitigating, sw.EventSubsiding: sw.PhaseSubsiding, sw.EventEnded: sw.PhaseEnded}

// Prior is what the server knows of an attack before a step: nil for a
// new one.
type Prior struct {
	Seq       int
	StartedAt time.Time
	PeakPPS   uint64
	PeakBPS   uint64
}

// Convert makes the attack event of generic step in, prefixed so that
// senders' ids never collide with the agent's ("in-", "fnm-", "am-"), at
// server time now, after prior. It names the field at fault.
func Convert(in *Event, prefix string, prior *Prior, now time.Time) (*sw.AttackEvent, error) {
	typ := in.Type
	if !strings.HasPrefix(typ, "attack.") {
		typ = "attack." + typ
	}
	phase, ok := phases[typ]
	if !ok {
		return nil, sw.Invalid("type", "must be started, updated, mitigating, subsiding or ended")
	}
	if in.ID == "" || len(in.ID) > 100 {
		return nil, sw.Invalid("id", "is required (at most 100 characters), unique per step and the same on a retry")
	}
	if in.AttackID == "" || len(in.AttackID) > 50 {
		return nil, sw.Invalid("attack_id", "is required (at most 50 characters)")
	}
	at := in.At
	if at.IsZero() {
		at = now
	}
	sev := sw.Severity(strings.ToLower(in.Severity))
	if in.Severity == "" {
		sev = sw.SeverityMedium
	}
	class := strings.ToLower(in.Classification)
	if class == "" {
		class = sw.VectorOther
	}
	e := &sw.AttackEvent{ID: prefix + in.ID, Type: typ, AttackID: prefix + in.AttackID, Seq: 1, At: at, Target: in.Target, Phase: phase,
		Severity: string(sev), Classification: class, Confidence: 1, Title: in.Title, PPS: in.PPS, BPS: in.BPS,
		PeakPPS: in.PPS, PeakBPS: in.BPS, StartedAt: at, Components: in.Components,
		Vectors: []sw.Vector{{Type: class, PPS: in.PPS, BPS: in.BPS, Confidence: 1}}}
	if prior != nil {
		e.Seq, e.StartedAt = prior.Seq+1, prior.StartedAt
		e.PeakPPS, e.PeakBPS = max(e.PeakPPS, prior.PeakPPS), max(e.PeakBPS, prior.PeakBPS)
	}
	if typ == sw.EventEnded {
		e.EndedAt = &at
	}
	if e.Title == "" {
		e.Title = fmt.Sprintf("%s on %s", class, in.Target)
	}
	if err := sw.CheckAttackEvent(0, e, now); err != nil {
		var ve *sw.ValidationError
		if errors.As(err, &ve) {
			return nil, sw.Invalid(strings.TrimPrefix(ve.Field, "events[0]."), "%s", ve.Message)
		}
		return nil, err
	}
	return e, nil
}

// validTarget reports whether s is an address or prefix.
func validTarget(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// NoTarget stands for an alert that names no address.
const NoTarget = "0.0.0.0/0"
