package incident

import (
	"context"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/rules"
)

// Verdict is what a rule set would have decided for a recorded attack.
type Verdict struct {
	Attack     sw.Attack
	Components []string // slugs of the components it would have affected
	Decision   rules.Decision
	// Public says whether the page would have shown it: published at
	// once, or after a delay the attack outlasted.
	Public bool
}

// replayReader is what Replay reads.
type replayReader interface {
	AttacksSince(ctx context.Context, ws string, since time.Time, limit int) ([]sw.Attack, error)
	NodeComponents(ctx context.Context, ws, node string) ([]sw.Component, error)
	Node(ctx context.Context, ws, id string) (*sw.Node, error)
}

// MaxReplay bounds the attacks one replay judges.
const MaxReplay = 5000

// Replay judges every attack recorded since since by set, as if each had
// just reached its recorded peak and duration: the answer to "what would
// these rules have published?" before an operator switches them on.
func Replay(ctx context.Context, r replayReader, ws string, set *rules.Set, since time.Time) ([]Verdict, error) {
	attacks, err := r.AttacksSince(ctx, ws, since, MaxReplay)
	if err != nil {
		return nil, err
	}
	var out []Verdict
	for _, a := range attacks {
		node, err := r.Node(ctx, ws, a.NodeID)
		if err != nil {
			return nil, err
		}
		comps, err := r.NodeComponents(ctx, ws, a.NodeID)
		if err != nil {
			return nil, err
		}
		v := Verdict{Attack: a, Decision: rules.Decision{Publish: rules.PublishNever}}
		if len(comps) > 0 {
			end := a.UpdatedAt
			if a.EndedAt != nil {
				end = *a.EndedAt
			}
			e := &sw.AttackEvent{AttackID: a.ID, Severity: string(a.Severity), Classification: a.Classification, Vectors: a.Vectors,
				PeakBPS: a.PeakBPS, PeakPPS: a.PeakPPS, StartedAt: a.StartedAt, At: end}
			decisions, best := decide(set, node, comps, e)
			v.Decision = best
			v.Public = best.Publish == rules.PublishNow || best.Publish == rules.PublishAfter && end.Sub(a.StartedAt) >= best.After
			for i, c := range comps {
				if decisions[i].Publish >= rules.PublishObserve {
					v.Components = append(v.Components, c.Slug)
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}
