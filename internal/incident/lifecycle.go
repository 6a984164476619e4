package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
)

// wording is what the public is told at each step of a signal's life,
// for one kind of trigger. It says what is known at that step, never
// where or how much.
type wording struct {
	opened, correlated, mitigating, subsiding, ended, resumed, intensified, resolved string
}

var (
	attackWords = wording{
		opened:      "We are investigating an attack on {components} ({attack}).",
		correlated:  "Another part of the network reports an attack on {components} ({attack}).",
		mitigating:  "Mitigation is in place and filtering the attack traffic.",
		subsiding:   "The attack is subsiding and traffic is returning to normal.",
		ended:       "Traffic is back to normal. We are monitoring before closing this incident.",
		resumed:     "The attack has resumed. We are investigating.",
		intensified: "The attack has intensified again. We are investigating.",
		resolved:    "This incident has been resolved: traffic has stayed normal since the attack ended.",
	}
	unreachableWords = wording{
		opened:      "We lost contact with part of the network serving {components} and are investigating.",
		correlated:  "We also lost contact with another part of the network serving {components}.",
		ended:       "Contact with the network serving {components} is restored. We are monitoring before closing this incident.",
		resumed:     "We lost contact with the network serving {components} again and are investigating.",
		intensified: "We lost contact with the network serving {components} again and are investigating.",
		resolved:    "This incident has been resolved: the network has stayed reachable since contact was restored.",
	}
	monitorWords = wording{
		opened:      "{components} is not responding to our checks. We are investigating.",
		correlated:  "Our checks also find {components} not responding.",
		ended:       "{components} is responding to our checks again. We are monitoring before closing this incident.",
		resumed:     "{components} has stopped responding to our checks again. We are investigating.",
		intensified: "{components} has stopped responding to our checks again. We are investigating.",
		resolved:    "This incident has been resolved: {components} has kept responding since it recovered.",
	}
	alertWords = wording{
		opened:      "We are investigating a problem affecting {components}.",
		correlated:  "We are also seeing a problem affecting {components}.",
		ended:       "The problem affecting {components} has cleared. We are monitoring before closing this incident.",
		resumed:     "The problem affecting {components} is back. We are investigating.",
		intensified: "The problem affecting {components} is back. We are investigating.",
		resolved:    "This incident has been resolved: {components} has stayed healthy since the problem cleared.",
	}
	// mixedResolved closes an incident that had both kinds of signal.
	mixedResolved = "This incident has been resolved: everything has stayed normal since the last problem ended."
)

// wordsFor picks the wording of an event's kind of trigger.
func wordsFor(e *sw.AttackEvent) *wording {
	switch e.Classification {
	case sw.VectorUnreachable:
		return &unreachableWords
	case sw.VectorMonitorDown:
		return &monitorWords
	case sw.VectorAlert:
		return &alertWords
	}
	return &attackWords
}

// linked sums up the other signals linked to an incident: how many have
// not ended, and how many of those are still in full swing (not
// subsiding).
type linked struct{ running, strong int }

func linkedSignals(ctx context.Context, tx *store.Tx, ws, incID, nodeID, attackID string) (linked, error) {
	attacks, err := tx.IncidentAttacks(ctx, ws, incID)
	if err != nil {
		return linked{}, err
	}
	var l linked
	for _, at := range attacks {
		if (at.NodeID == nodeID && at.ID == attackID) || at.Phase == sw.PhaseEnded {
			continue
		}
		l.running++
		if at.Phase != sw.PhaseSubsiding {
			l.strong++
		}
	}
	return l, nil
}

// follow keeps a linked incident up to date with its signals' events. An
// incident stays open while any signal linked to it runs: one signal
// ending while another goes on changes nothing public; the last one
// ending starts the wait before resolution. A linked signal's new event
// after that reopens the incident. One change of state is one update.
// Pinned incidents are left alone.
func (a *Automator) follow(ctx context.Context, tx *store.Tx, ws, incID string, node *sw.Node, e *sw.AttackEvent) error {
	if err := tx.LockIncident(ctx, ws, incID); err != nil {
		return err
	}
	inc, err := tx.Incident(ctx, ws, incID)
	if err != nil {
		return err
	}
	if inc.Pinned {
		if e.Type == sw.EventUpdated {
			return nil
		}
		return audit(ctx, tx, ws, "automation.skipped", "incident", incID,
			map[string]any{"reason": "pinned by an operator", "event": e.Type, "attack": e.AttackID})
	}
	if inc.Visibility == sw.VisibilityObserved && e.Type != sw.EventEnded {
		// An observed signal that grows (more locations, a higher
		// severity) may now be one the rules publish.
		if err := a.promote(ctx, tx, ws, inc, node, e); err != nil {
			return err
		}
	}
	others, err := linkedSignals(ctx, tx, ws, incID, node.ID, e.AttackID)
	if err != nil {
		return err
	}
	words := wordsFor(e)
	vars, err := a.textVars(ctx, tx, ws, inc, e)
	if err != nil {
		return err
	}
	edit := store.IncidentEdit{}
	status := func(s sw.IncidentStatus, tmpl string) {
		msg, translated := say(tmpl, nil, vars)
		edit.Status, edit.Message, edit.MessageTranslations = &s, &msg, translated
	}
	reopen := func(msg string) error {
		status(sw.Investigating, msg)
		return tx.CancelTimer(ctx, ws, timerResolve, incID)
	}
	switch e.Type {
	case sw.EventStarted: // a new onset of the same attack
		if inc.Status == sw.Resolved || inc.Status == sw.Monitoring {
			if err := reopen(words.resumed); err != nil {
				return err
			}
		}
	case sw.EventMitigating:
		switch inc.Status {
		case sw.Investigating:
			status(sw.Identified, words.mitigating)
		case sw.Resolved, sw.Monitoring:
			if err := reopen(words.resumed); err != nil {
				return err
			}
		}
	case sw.EventSubsiding:
		if (inc.Status == sw.Investigating || inc.Status == sw.Identified) && others.strong == 0 {
			status(sw.Monitoring, words.subsiding)
		}
	case sw.EventEnded:
		switch {
		case others.running > 0:
			return audit(ctx, tx, ws, "automation.held", "incident", incID, map[string]any{"event": e.Type, "attack": e.AttackID,
				"reason": fmt.Sprintf("%d other signal(s) linked to this incident still running", others.running)})
		case inc.Status == sw.Resolved:
			return nil
		case len(inc.Updates) == 0 || inc.Updates[0].Message != rules.Expand(words.ended, vars(locale.Or(locale.Default))):
			status(sw.Monitoring, words.ended)
		}
		// Arm (or re-arm) the wait before resolution; "back to normal" is
		// said once, not again when it is already the latest word.
		if err := tx.SetTimer(ctx, ws, timerResolve, incID, tx.Now().Add(a.s.Resolve)); err != nil {
			return err
		}
	case sw.EventUpdated:
		if e.Phase != sw.PhaseEnded && e.Phase != sw.PhaseSubsiding && (inc.Status == sw.Resolved || inc.Status == sw.Monitoring) {
			msg := words.intensified
			if inc.Status == sw.Resolved {
				msg = words.resumed
			}
			if err := reopen(msg); err != nil {
				return err
			}
			break
		}
		return a.escalate(ctx, tx, ws, inc, node, e)
	}
	if edit.Status == nil {
		return nil
	}
	if _, err := tx.EditIncident(ctx, ws, incID, edit); err != nil {
		return err
	}
	return audit(ctx, tx, ws, "automation.updated", "incident", incID,
		map[string]any{"event": e.Type, "attack": e.AttackID, "status": string(*edit.Status)})
}

func componentNames(inc *sw.Incident) string {
	n := make([]string, len(inc.Components))
	for i, c := range inc.Components {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// textVars are the template variables of automatic texts for incident
// inc and event e.
func (a *Automator) textVars(ctx context.Context, tx *store.Tx, ws string, inc *sw.Incident, e *sw.AttackEvent) (varsIn, error) {
	w, err := tx.Workspace(ctx, ws)
	if err != nil {
		return nil, err
	}
	comps := make([]sw.Component, len(inc.Components))
	for i, ic := range inc.Components {
		comps[i] = sw.Component{Name: ic.Name}
	}
	return eventVars(w, comps, e), nil
}

// escalate raises the incident's component statuses and impact when the
// rules now say worse (a long attack), posting one update when they do.
func (a *Automator) escalate(ctx context.Context, tx *store.Tx, ws string, inc *sw.Incident, node *sw.Node, e *sw.AttackEvent) error {
	if inc.Status == sw.Resolved {
		return nil
	}
	set, err := a.ruleSet(ctx, tx, ws)
	if err != nil {
		return err
	}
	var comps []sw.Component
	for _, ic := range inc.Components {
		comps = append(comps, sw.Component{ID: ic.ComponentID, Slug: ic.Slug, Name: ic.Name, Status: ic.Status})
	}
	decisions, _ := decide(set, node, comps, e)
	edit := store.IncidentEdit{}
	var raised []string
	for i, ic := range inc.Components {
		if w := sw.Worse(ic.Status, decisions[i].Status); w != ic.Status {
			edit.Changes = append(edit.Changes, store.ComponentChange{Ref: ic.ComponentID, Status: w})
			raised = append(raised, ic.Name)
		}
		if impactRank(decisions[i].Impact) > impactRank(inc.Impact) {
			impact := decisions[i].Impact
			edit.Impact = &impact
		}
	}
	if edit.Changes == nil && edit.Impact == nil {
		return nil
	}
	tmpl := "The attack is still going on; we have raised its impact."
	if len(raised) > 0 {
		tmpl = "The attack is still going on and affects {components} more severely."
	}
	msg, translated := say(tmpl, nil, fixedVars(map[string]string{"components": strings.Join(raised, ", ")}))
	edit.Message, edit.MessageTranslations = &msg, translated
	if _, err := tx.EditIncident(ctx, ws, inc.ID, edit); err != nil {
		return err
	}
	return audit(ctx, tx, ws, "automation.escalated", "incident", inc.ID,
		map[string]any{"attack": e.AttackID, "duration_seconds": e.At.Sub(e.StartedAt).Seconds()})
}

// RunDue fires the timers due at now, each once: a delayed publication
// publishes if its attack is still going on; a resolution resolves the
// incident if none of its attacks flared up again. It returns how many
// it fired.
func (a *Automator) RunDue(ctx context.Context, st *store.Store, now time.Time) (int, error) {
	due, err := st.DueTimers(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	fired := 0
	var firstErr error
	for _, t := range due {
		won := false
		err := st.Tx(ctx, func(tx *store.Tx) error {
			var err error
			if won, err = tx.ClaimTimer(ctx, t.ID); err != nil || !won {
				return err
			}
			switch t.Kind {
			case timerPublish:
				err = a.publishLater(ctx, tx, t)
			case timerResolve:
				err = a.resolve(ctx, tx, t)
			default:
				if fn, ok := a.others[t.Kind]; ok {
					err = fn(ctx, tx, t)
				}
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil // its attack, node or incident was deleted: nothing left to do
			}
			return err
		})
		switch {
		case err != nil:
			// The timer stays armed and is tried again; the others go on.
			if firstErr == nil {
				firstErr = fmt.Errorf("timer %s %s: %w", t.Kind, t.Ref, err)
			}
		case won:
			fired++
		}
	}
	return fired, firstErr
}

func (a *Automator) publishLater(ctx context.Context, tx *store.Tx, t store.Timer) error {
	nodeID, attackID, _ := strings.Cut(t.Ref, "/")
	atk, err := tx.Attack(ctx, t.WorkspaceID, attackID)
	if err != nil {
		return err
	}
	if atk.Phase == sw.PhaseEnded {
		return audit(ctx, tx, t.WorkspaceID, "automation.not_published", "attack", attackID,
			map[string]any{"reason": "the attack ended before its publication delay", "node": nodeID})
	}
	linked, err := tx.AttackIncident(ctx, t.WorkspaceID, nodeID, attackID)
	if err != nil {
		return err
	}
	node, err := tx.Node(ctx, t.WorkspaceID, nodeID)
	if err != nil {
		return err
	}
	comps, err := signalComponents(ctx, tx, t.WorkspaceID, nodeID, &sw.AttackEvent{Monitor: atk.Monitor, Components: atk.Components})
	if err != nil || len(comps) == 0 {
		return err
	}
	set, err := a.ruleSet(ctx, tx, t.WorkspaceID)
	if err != nil {
		return err
	}
	// Judge the attack as it is now, with the time it has lasted.
	e := &sw.AttackEvent{AttackID: atk.ID, Severity: string(atk.Severity), Classification: atk.Classification,
		Vectors: atk.Vectors, PeakBPS: atk.PeakBPS, PeakPPS: atk.PeakPPS, StartedAt: atk.StartedAt, Target: atk.Target, Monitor: atk.Monitor,
		Components: atk.Components,
		At:         atk.StartedAt.Add(tx.Now().Sub(atk.StartedAt))}
	decisions, best := decide(set, node, comps, e)
	a.tell(best)
	if best.Publish < rules.PublishAfter {
		return audit(ctx, tx, t.WorkspaceID, "automation.not_published", "attack", attackID, ruleDetails(best, node, nil))
	}
	if linked != "" {
		inc, err := tx.Incident(ctx, t.WorkspaceID, linked)
		if err != nil || inc.Visibility != sw.VisibilityObserved {
			return err
		}
		return a.makePublic(ctx, tx, t.WorkspaceID, inc, node, best, e)
	}
	best.Publish = rules.PublishNow
	return a.publish(ctx, tx, t.WorkspaceID, node, comps, decisions, best, e, sw.VisibilityPublic)
}

func (a *Automator) resolve(ctx context.Context, tx *store.Tx, t store.Timer) error {
	if err := tx.LockIncident(ctx, t.WorkspaceID, t.Ref); err != nil {
		return err
	}
	inc, err := tx.Incident(ctx, t.WorkspaceID, t.Ref)
	if err != nil || inc.Status == sw.Resolved || inc.Pinned {
		return err
	}
	attacks, err := tx.IncidentAttacks(ctx, t.WorkspaceID, inc.ID)
	if err != nil {
		return err
	}
	kinds := map[string]bool{}
	for _, at := range attacks {
		if at.Phase != sw.PhaseEnded {
			// A signal still runs (its end was never reported, or it
			// resumed): its own end arms the timer again.
			return audit(ctx, tx, t.WorkspaceID, "automation.held", "incident", inc.ID,
				map[string]any{"reason": "a linked signal is still running", "attack": at.ID})
		}
		kinds[wordsFor(&sw.AttackEvent{Classification: at.Classification}).resolved] = true
	}
	msg := attackWords.resolved
	switch len(kinds) {
	case 1:
		for m := range kinds {
			msg = m
		}
	case 0:
	default:
		msg = mixedResolved
	}
	text, translated := say(msg, nil, fixedVars(map[string]string{"components": componentNames(inc)}))
	resolved := sw.Resolved
	if _, err := tx.EditIncident(ctx, t.WorkspaceID, inc.ID, store.IncidentEdit{Status: &resolved, Message: &text, MessageTranslations: translated}); err != nil {
		return err
	}
	return audit(ctx, tx, t.WorkspaceID, "automation.resolved", "incident", inc.ID,
		map[string]any{"reason": fmt.Sprintf("every linked signal ended, then %s without a new one", a.s.Resolve)})
}

// Run fires due timers every interval, and raises node_unreachable for
// nodes silent longer than silence (0 turns that off), until ctx ends.
func (a *Automator) Run(ctx context.Context, st *store.Store, interval, silence time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.RunDue(ctx, st, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Error("automation timers", "err", err)
		}
		if silence > 0 {
			if err := a.CheckSilence(ctx, st, time.Now(), silence); err != nil && ctx.Err() == nil {
				a.log.Error("node silence", "err", err)
			}
		}
	}
}

// promote judges an observed incident's signal again: if the rules now
// publish it at once, the incident becomes public; if after a delay, the
// delay starts (and publishLater makes it public if it still holds).
func (a *Automator) promote(ctx context.Context, tx *store.Tx, ws string, inc *sw.Incident, node *sw.Node, e *sw.AttackEvent) error {
	set, err := a.ruleSet(ctx, tx, ws)
	if err != nil {
		return err
	}
	comps, err := signalComponents(ctx, tx, ws, node.ID, e)
	if err != nil || len(comps) == 0 {
		return err
	}
	_, best := decide(set, node, comps, e)
	switch best.Publish {
	case rules.PublishNow:
		return a.makePublic(ctx, tx, ws, inc, node, best, e)
	case rules.PublishAfter:
		ref := node.ID + "/" + e.AttackID
		pending, err := tx.TimerPending(ctx, ws, timerPublish, ref)
		if err != nil || pending {
			return err
		}
		if err := tx.SetTimer(ctx, ws, timerPublish, ref, tx.Now().Add(best.After)); err != nil {
			return err
		}
		return audit(ctx, tx, ws, "automation.publish_scheduled", "incident", inc.ID, ruleDetails(best, node,
			map[string]any{"after_seconds": best.After.Seconds(), "attack": e.AttackID}))
	}
	return nil
}

// makePublic publishes an observed incident: its components take their
// statuses and subscribers hear of it as of a new one.
func (a *Automator) makePublic(ctx context.Context, tx *store.Tx, ws string, inc *sw.Incident, node *sw.Node, best rules.Decision, e *sw.AttackEvent) error {
	public := sw.VisibilityPublic
	if _, err := tx.EditIncident(ctx, ws, inc.ID, store.IncidentEdit{Visibility: &public}); err != nil {
		return err
	}
	inc.Visibility = public
	return audit(ctx, tx, ws, "automation.published", "incident", inc.ID, ruleDetails(best, node,
		map[string]any{"attack": e.AttackID, "visibility": public, "was": sw.VisibilityObserved}))
}
