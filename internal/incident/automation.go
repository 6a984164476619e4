// Package incident turns attacks into public incidents by the workspace's
// rules, keeps them updated through the attack's life and resolves them,
// all inside the transaction that stores the agent's event (so an
// incident, its component statuses and the page revision commit together),
// with durable timers for what must happen later.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Settings of the automation.
type Settings struct {
	// Correlation: an attack joins an unresolved automatic incident on
	// the same components opened this recently, instead of opening one.
	Correlation time.Duration
	// Resolve is how long traffic must stay normal after attack.ended
	// before the incident is resolved; a new onset before then keeps it.
	Resolve time.Duration
}

// DefaultSettings correlate within 10 minutes and resolve after 2 minutes
// of normal traffic.
func DefaultSettings() Settings {
	return Settings{Correlation: 10 * time.Minute, Resolve: 2 * time.Minute}
}

// Timer kinds.
const (
	timerPublish = "publish" // ref: node/attack
	timerResolve = "resolve" // ref: incident id
)

// Automator applies the rules. It is safe for concurrent use.
type Automator struct {
	s      Settings
	log    *slog.Logger
	parse  sync.Map // rule text -> *rules.Set
	others map[string]TimerFunc
	// decided hears every publication decision (metrics); it may be nil.
	decided func(decision string)
}

// OnDecision makes fn hear every publication decision the rules make for
// a new signal (for metrics). Set it before use.
func (a *Automator) OnDecision(fn func(decision string)) { a.decided = fn }

func (a *Automator) tell(d rules.Decision) {
	if a.decided != nil {
		a.decided(d.Publish.String())
	}
}

// TimerFunc fires one durable timer in the transaction that claimed it.
type TimerFunc func(ctx context.Context, tx *store.Tx, t store.Timer) error

// New returns an automator.
func New(s Settings, log *slog.Logger) *Automator {
	return &Automator{s: s, log: log, others: map[string]TimerFunc{}}
}

// HandleTimers makes the automator's timer loop also fire timers of the
// given kinds with fn (maintenance windows), so that one loop on one
// claim-once table drives every scheduled action.
func (a *Automator) HandleTimers(fn TimerFunc, kinds ...string) {
	for _, k := range kinds {
		a.others[k] = fn
	}
}

var robot = sw.Actor{Type: sw.ActorSystem, ID: "automation", Name: "auto-publish"}

func (a *Automator) ruleSet(ctx context.Context, tx *store.Tx, ws string) (*rules.Set, error) {
	text, _, ok, err := tx.RuleText(ctx, ws)
	if err != nil {
		return nil, err
	}
	if !ok {
		text = rules.DefaultText
	}
	if s, ok := a.parse.Load(text); ok {
		return s.(*rules.Set), nil
	}
	set, err := rules.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("stored rules of %s do not parse: %w", ws, err)
	}
	a.parse.Store(text, set)
	return set, nil
}

func audit(ctx context.Context, tx *store.Tx, ws, action, targetType, targetID string, details map[string]any) error {
	raw, err := json.Marshal(details)
	if err != nil {
		return err
	}
	return tx.Audit(ctx, ws, &sw.AuditEntry{Actor: robot, Action: action, TargetType: targetType, TargetID: targetID, Details: raw})
}

// Apply runs the automation for one new event of node's agent, in tx.
func (a *Automator) Apply(ctx context.Context, tx *store.Tx, ws string, node *sw.Node, e *sw.AttackEvent) error {
	incID, err := tx.AttackIncident(ctx, ws, node.ID, e.AttackID)
	if err != nil {
		return err
	}
	if incID != "" {
		return a.follow(ctx, tx, ws, incID, node, e)
	}
	ref := node.ID + "/" + e.AttackID
	if e.Type == sw.EventEnded {
		pending, err := tx.TimerPending(ctx, ws, timerPublish, ref)
		if err != nil || !pending {
			return err
		}
		if err := tx.CancelTimer(ctx, ws, timerPublish, ref); err != nil {
			return err
		}
		return audit(ctx, tx, ws, "automation.not_published", "attack", e.AttackID,
			map[string]any{"reason": "the attack ended before its publication delay", "node": node.ID})
	}
	comps, err := signalComponents(ctx, tx, ws, node.ID, e)
	if err != nil {
		return err
	}
	if len(comps) == 0 {
		if e.Type != sw.EventStarted {
			return nil
		}
		return audit(ctx, tx, ws, "automation.not_published", "attack", e.AttackID,
			map[string]any{"reason": "the node is linked to no component", "node": node.ID})
	}
	set, err := a.ruleSet(ctx, tx, ws)
	if err != nil {
		return err
	}
	decisions, best := decide(set, node, comps, e)
	if e.Type == sw.EventStarted {
		a.tell(best)
	}
	switch best.Publish {
	case rules.PublishNow:
		return a.publish(ctx, tx, ws, node, comps, decisions, best, e, sw.VisibilityPublic)
	case rules.PublishDraft:
		return a.publish(ctx, tx, ws, node, comps, decisions, best, e, sw.VisibilityDraft)
	case rules.PublishObserve:
		return a.publish(ctx, tx, ws, node, comps, decisions, best, e, sw.VisibilityObserved)
	case rules.PublishAfter:
		pending, err := tx.TimerPending(ctx, ws, timerPublish, ref)
		if err != nil || pending {
			return err
		}
		if err := tx.SetTimer(ctx, ws, timerPublish, ref, tx.Now().Add(best.After)); err != nil {
			return err
		}
		return audit(ctx, tx, ws, "automation.publish_scheduled", "attack", e.AttackID, ruleDetails(best, node,
			map[string]any{"after_seconds": best.After.Seconds()}))
	}
	if e.Type != sw.EventStarted {
		return nil
	}
	if err := notPublishedNotice(ctx, tx, ws, node, comps, e, best); err != nil {
		return err
	}
	return audit(ctx, tx, ws, "automation.not_published", "attack", e.AttackID, ruleDetails(best, node, nil))
}

// notPublishedNotice tells the operators of a signal the rules keep off
// the page, so that a quiet page is a decision they can see.
func notPublishedNotice(ctx context.Context, tx *store.Tx, ws string, node *sw.Node, comps []sw.Component, e *sw.AttackEvent, d rules.Decision) error {
	why := "no rule publishes it"
	if d.Decided != nil {
		why = fmt.Sprintf("rule line %d says %q", d.Decided.Line, d.Decided.Text)
	}
	return tx.AddNotice(ctx, ws, "attack.not_published", "Not published: "+e.Title,
		fmt.Sprintf("%s (severity %s, reported by %s, affecting %s) is not on the status page: %s.", e.Title, e.Severity, node.Name, names(comps), why))
}

// signalComponents are the components a signal affects: the check's for
// a monitor signal, those an inbound alert names, the node's for the
// rest.
func signalComponents(ctx context.Context, tx *store.Tx, ws, nodeID string, e *sw.AttackEvent) ([]sw.Component, error) {
	m := e.Monitor
	if m == nil && len(e.Components) > 0 {
		var out []sw.Component
		for _, slug := range e.Components {
			c, err := tx.Component(ctx, ws, slug)
			if errors.Is(err, store.ErrNotFound) {
				continue // a label naming nothing here: the others still count
			}
			if err != nil {
				return nil, err
			}
			out = append(out, *c)
		}
		return out, nil
	}
	if m == nil {
		return tx.NodeComponents(ctx, ws, nodeID)
	}
	k, err := tx.Check(ctx, ws, m.CheckID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // deleted since
	}
	if err != nil {
		return nil, err
	}
	c, err := tx.Component(ctx, ws, k.ComponentID)
	if err != nil {
		return nil, err
	}
	return []sw.Component{*c}, nil
}

func ruleDetails(d rules.Decision, node *sw.Node, more map[string]any) map[string]any {
	out := map[string]any{"node": node.ID, "decision": d.Publish.String()}
	if d.Decided != nil {
		out["rule_line"], out["rule"] = d.Decided.Line, d.Decided.Text
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// decide evaluates the rules for every component of the node and returns
// each decision and the most eager of them.
func decide(set *rules.Set, node *sw.Node, comps []sw.Component, e *sw.AttackEvent) ([]rules.Decision, rules.Decision) {
	vectors := make([]string, len(e.Vectors))
	for i, v := range e.Vectors {
		vectors[i] = v.Key()
	}
	out := make([]rules.Decision, len(comps))
	var best rules.Decision
	locations, check := 1, ""
	if m := e.Monitor; m != nil {
		locations, check = m.Locations, m.CheckName
	}
	for i, c := range comps {
		maintenance := c.Status == sw.UnderMaintenance
		out[i] = rules.Evaluate(set, rules.Facts{Severity: sw.Severity(e.Severity), Duration: e.At.Sub(e.StartedAt),
			Classification: e.Classification, Vectors: vectors, BPS: e.PeakBPS, PPS: e.PeakPPS, Node: node.Name,
			Component: c.Slug, DuringMaintenance: maintenance, Locations: locations, Check: check})
		if e.Monitor != nil && maintenance {
			// A maintenance window is when checks are expected to
			// fail: it silences them whatever the rules say.
			out[i].Publish, out[i].Decided = rules.PublishNever, nil
		}
		if i == 0 || more(out[i], best) {
			best = out[i]
		}
	}
	return out, best
}

func more(a, b rules.Decision) bool {
	if a.Publish != b.Publish {
		return a.Publish > b.Publish
	}
	return a.Publish == rules.PublishAfter && a.After < b.After
}

func names(comps []sw.Component) string {
	n := make([]string, len(comps))
	for i, c := range comps {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// publish opens the incident (or joins an open one on the same
// components) and links the attack to it.
func (a *Automator) publish(ctx context.Context, tx *store.Tx, ws string, node *sw.Node, comps []sw.Component,
	decisions []rules.Decision, best rules.Decision, e *sw.AttackEvent, visibility string) error {
	var changes []store.ComponentChange
	var ids []string
	impact := sw.ImpactNone
	for i, c := range comps {
		if decisions[i].Publish < rules.PublishObserve {
			continue // this component's rules keep it quiet
		}
		changes = append(changes, store.ComponentChange{Ref: c.ID, Status: decisions[i].Status})
		ids = append(ids, c.ID)
		if impactRank(decisions[i].Impact) > impactRank(impact) {
			impact = decisions[i].Impact
		}
	}
	w, err := tx.Workspace(ctx, ws)
	if err != nil {
		return err
	}
	vars := eventVars(w, comps, e)
	words := wordsFor(e)
	var titles, messages map[string]string
	if visibility == sw.VisibilityPublic {
		open, err := tx.OpenAutoIncident(ctx, ws, ids, tx.Now().Add(-a.s.Correlation))
		if err != nil {
			return err
		}
		if open != "" {
			msg, translated := say(words.correlated, nil, vars)
			return a.correlate(ctx, tx, ws, open, node, changes, best, e, msg, translated)
		}
	}
	title, message := best.Title, best.Message
	titles, messages = best.Titles, best.Messages
	if best.Template != "" {
		// The rule names an incident template: its texts, unless the
		// rule gives its own; a template deleted since falls back to the
		// defaults, said in the audit log.
		t, err := tx.IncidentTemplate(ctx, ws, best.Template)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if err := audit(ctx, tx, ws, "automation.template_missing", "attack", e.AttackID,
				map[string]any{"template": best.Template}); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if title == "" {
				title, titles = t.Title, t.TitleTranslations
			}
			if message == "" {
				message, messages = t.Message, t.MessageTranslations
			}
		}
	}
	defTitle, defMessage := "DDoS attack affecting {components}", words.opened
	if w.PublicAttackDetails {
		defMessage = "We are investigating an attack on {components} ({attack}, {volume} against {target})."
	}
	switch e.Classification {
	case sw.VectorUnreachable:
		defTitle, defMessage = "Connectivity problems affecting {components}", words.opened
	case sw.VectorMonitorDown:
		defTitle, defMessage = "Service disruption affecting {components}", words.opened
	case sw.VectorAlert:
		defTitle, defMessage = "Problems affecting {components}", words.opened
	}
	// Translations go with the text they translate: the rule's with the
	// rule's, the template's with the template's; the defaults' come from
	// the catalogue.
	if title == "" {
		title, titles = defTitle, nil
	}
	if message == "" {
		message, messages = defMessage, nil
	}
	titleText, titleTranslations := say(title, titles, vars)
	for lang, t := range titleTranslations {
		titleTranslations[lang] = sw.Truncate(t, sw.MaxTitleLen)
	}
	messageText, messageTranslations := say(message, messages, vars)
	inc := &sw.Incident{WorkspaceID: ws, Title: sw.Truncate(titleText, sw.MaxTitleLen), TitleTranslations: titleTranslations,
		Status: sw.Investigating, Impact: impact, Severity: sw.Severity(e.Severity), Source: sw.SourceAuto, Visibility: visibility}
	if !inc.Severity.Valid() {
		inc.Severity = sw.SeverityLow
	}
	if err := tx.CreateIncident(ctx, inc, changes, messageText, messageTranslations); err != nil {
		return err
	}
	if visibility == sw.VisibilityDraft {
		if err := tx.AddNotice(ctx, ws, "incident.draft", "Draft waiting: "+inc.Title,
			fmt.Sprintf("The rules made a draft incident, %q, for %s; it reaches the page and subscribers when someone publishes it.",
				inc.Title, e.Title)); err != nil {
			return err
		}
	}
	if err := tx.LinkAttack(ctx, ws, node.ID, e.AttackID, inc.ID); err != nil {
		return err
	}
	return audit(ctx, tx, ws, "automation.published", "incident", inc.ID, ruleDetails(best, node,
		map[string]any{"attack": e.AttackID, "visibility": visibility}))
}

// correlate joins signal e to the open incident id: its components take
// the statuses it calls for, and an incident that was already waiting to
// resolve goes back to investigating, as nothing is over while a linked
// signal runs.
func (a *Automator) correlate(ctx context.Context, tx *store.Tx, ws, id string, node *sw.Node, changes []store.ComponentChange,
	best rules.Decision, e *sw.AttackEvent, msg string, translated sw.Translations) error {
	if err := tx.LockIncident(ctx, ws, id); err != nil {
		return err
	}
	inc, err := tx.Incident(ctx, ws, id)
	if err != nil {
		return err
	}
	edit := store.IncidentEdit{Changes: changes, Message: &msg, MessageTranslations: translated}
	if inc.Status == sw.Monitoring {
		investigating := sw.Investigating
		edit.Status = &investigating
		if err := tx.CancelTimer(ctx, ws, timerResolve, id); err != nil {
			return err
		}
	}
	if _, err := tx.EditIncident(ctx, ws, id, edit); err != nil {
		return err
	}
	if err := tx.LinkAttack(ctx, ws, node.ID, e.AttackID, id); err != nil {
		return err
	}
	return audit(ctx, tx, ws, "automation.correlated", "incident", id, ruleDetails(best, node, map[string]any{"attack": e.AttackID}))
}

// eventVars are the template variables of automatic texts: the
// components, the attack in public words, and its target and volume only
// where the workspace opted in to public attack details.
func eventVars(w *sw.Workspace, comps []sw.Component, e *sw.AttackEvent) varsIn {
	components := names(comps)
	return func(l *locale.Locale) map[string]string {
		vars := map[string]string{"components": components, "severity": e.Severity, "attack": publicAttack(e, l),
			"duration": e.At.Sub(e.StartedAt).Round(time.Second).String(), "target": l.T("our network"), "volume": l.T("heavy traffic"),
			"check": "", "locations": "1"}
		if m := e.Monitor; m != nil {
			// A check's target may be an internal address: never public.
			vars["check"], vars["locations"] = m.CheckName, fmt.Sprintf("%d of %d", m.Locations, m.Of)
			return vars
		}
		if w.PublicAttackDetails && e.Classification != sw.VectorAlert {
			vars["target"], vars["volume"] = e.Target, detect.FormatRate(e.PeakPPS, e.PeakBPS)
		}
		return vars
	}
}

var impactRanks = map[sw.Impact]int{sw.ImpactNone: 0, sw.ImpactMinor: 1, sw.ImpactMajor: 2, sw.ImpactCritical: 3}

func impactRank(i sw.Impact) int { return impactRanks[i] }
