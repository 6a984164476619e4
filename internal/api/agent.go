package api

import (
	"net/http"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// maxBatch bounds the events of one agent request.
const maxBatch = 500

type eventsInput struct {
	Events []sw.AttackEvent `json:"events"`
}

type eventsOutput struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// agentEvents stores a batch of attack events from a node's agent and runs
// the automation for each new one. The whole batch is checked first and
// stored in one transaction with the incidents it causes: a batch is kept
// entirely or not at all, and a retried batch only counts duplicates.
func (s *Server) agentEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in eventsInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.Events) == 0 || len(in.Events) > maxBatch {
		return sw.Invalid("events", "must hold 1 to %d events", maxBatch)
	}
	now := time.Now()
	for i := range in.Events {
		if err := sw.CheckAttackEvent(i, &in.Events[i], now); err != nil {
			return err
		}
	}
	var out eventsOutput
	var fresh []string // types of the events stored now
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		out, fresh = eventsOutput{}, fresh[:0]
		for i := range in.Events {
			stored, err := tx.RecordAttackEvent(r.Context(), c.workspace, c.node.ID, &in.Events[i])
			if err != nil {
				return err
			}
			if !stored {
				out.Duplicates++
				continue
			}
			out.Accepted++
			fresh = append(fresh, in.Events[i].Type)
			if s.auto != nil {
				if err := s.auto.Apply(r.Context(), tx, c.workspace, c.node, &in.Events[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.obs != nil {
		for _, typ := range fresh {
			s.obs.AttackEvent(typ)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) agentHeartbeat(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in sw.Heartbeat
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := sw.CheckText("agent_version", in.AgentVersion, 64, false); err != nil {
		return err
	}
	if err := sw.CheckText("source", in.Source, 200, false); err != nil {
		return err
	}
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		if err := tx.RecordHeartbeat(r.Context(), c.workspace, c.node.ID, &in); err != nil {
			return err
		}
		if s.auto == nil {
			return nil
		}
		return s.auto.NodeAlive(r.Context(), tx, c.workspace, c.node)
	})
	if err != nil {
		return err
	}
	if s.obs != nil {
		s.obs.Heartbeat()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
