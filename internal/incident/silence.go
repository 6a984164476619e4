package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Silence turns a node's missing heartbeats into an event of kind
// node_unreachable, which the rules judge like an attack (e.g.
// `attack == node_unreachable -> publish after 2m`); the next heartbeat
// ends it. A saturated uplink silences the agent too, so silence is news.

// CheckSilence raises node_unreachable for every node whose heartbeats
// stopped more than silence before now, once per silent spell.
func (a *Automator) CheckSilence(ctx context.Context, st *store.Store, now time.Time, silence time.Duration) error {
	nodes, err := st.SilentNodes(ctx, now.Add(-silence))
	if err != nil {
		return err
	}
	for i := range nodes {
		n := &nodes[i]
		last := *n.LastHeartbeatAt
		id := fmt.Sprintf("unreachable_%s_%d", n.ID, last.Unix())
		e := silenceEvent(n, id, 1, sw.EventStarted, last, now)
		err := st.Tx(ctx, func(tx *store.Tx) error {
			stored, err := tx.RecordAttackEvent(ctx, n.WorkspaceID, n.ID, e)
			if err != nil || !stored {
				return err // already raised for this spell
			}
			return a.Apply(ctx, tx, n.WorkspaceID, n, e)
		})
		if err != nil {
			return fmt.Errorf("node %s silent: %w", n.ID, err)
		}
	}
	return nil
}

// NodeAlive ends the node's node_unreachable spell, if one is open, in tx
// (the heartbeat's transaction).
func (a *Automator) NodeAlive(ctx context.Context, tx *store.Tx, ws string, n *sw.Node) error {
	open, err := tx.OpenAttack(ctx, ws, n.ID, sw.VectorUnreachable)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A spell has two events: started (1) and this end (2).
	e := silenceEvent(n, open.ID, 2, sw.EventEnded, open.StartedAt, tx.Now())
	stored, err := tx.RecordAttackEvent(ctx, ws, n.ID, e)
	if err != nil || !stored {
		return err
	}
	return a.Apply(ctx, tx, ws, n, e)
}

func silenceEvent(n *sw.Node, id string, seq int, typ string, since, at time.Time) *sw.AttackEvent {
	phase := sw.PhaseDetected
	var ended *time.Time
	if typ == sw.EventEnded {
		phase, ended = sw.PhaseEnded, &at
	}
	return &sw.AttackEvent{ID: fmt.Sprintf("%s-%d", id, seq), Type: typ, AttackID: id, Seq: seq, At: at, Target: n.Name,
		Phase: phase, Severity: string(sw.SeverityMedium), Classification: sw.VectorUnreachable, Confidence: 1,
		Vectors:   []sw.Vector{{Type: sw.VectorUnreachable, Confidence: 1}},
		Title:     fmt.Sprintf("Node %s unreachable: no heartbeat since %s", n.Name, since.UTC().Format(time.RFC3339)),
		StartedAt: since, EndedAt: ended}
}
