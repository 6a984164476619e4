package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/monitor"
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
			if e := &in.Events[i]; e.Check != nil {
				if err := s.checkResult(r.Context(), tx, c, i, e.Check); err != nil {
					return err
				}
				out.Accepted++
				continue
			}
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

// checkResult records what the caller's node found running one of its
// checks (a state change from its spool, or a heartbeat's summary).
func (s *Server) checkResult(ctx context.Context, tx *store.Tx, c *caller, i int, res *sw.CheckResult) error {
	k, err := tx.Check(ctx, c.workspace, res.CheckID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !k.RunsOn(c.node.Name)) {
		// Deleted or moved since the agent last heard: the result
		// counts for nothing, and the next heartbeat's list drops it.
		return nil
	}
	if err != nil || s.mon == nil {
		return err
	}
	if res.Runs < 0 || res.Fails < 0 || res.Fails > res.Runs {
		return sw.Invalid(fmt.Sprintf("checks[%d].runs", i), "runs and fails must be 0 or more, fails at most runs")
	}
	return s.mon.Record(ctx, tx, c.workspace, k, c.node.ID, res)
}

// heartbeatInput is a heartbeat with the node's check runs since the
// last one.
type heartbeatInput struct {
	sw.Heartbeat
	Checks   []sw.CheckResult `json:"checks"`
	Declared []sw.Check       `json:"declared"`
}

// heartbeatOutput tells the agent which checks to run, and the node's
// mitigation policy when the server overrides the agent's.
type heartbeatOutput struct {
	Checks           []sw.Check      `json:"checks"`
	MitigationPolicy json.RawMessage `json:"mitigation_policy,omitempty"`
}

func (s *Server) agentHeartbeat(w http.ResponseWriter, r *http.Request, c *caller) error {
	var hb heartbeatInput
	if err := decode(w, r, &hb); err != nil {
		return err
	}
	in := hb.Heartbeat
	if len(hb.Checks) > maxBatch || len(hb.Declared) > maxBatch {
		return sw.Invalid("checks", "at most %d check results and %d declared checks", maxBatch, maxBatch)
	}
	for i := range hb.Declared {
		k := &hb.Declared[i]
		k.Nodes = []string{c.node.Name}
		if err := monitor.Vet(r.Context(), s.guard, k); err != nil {
			var ve *sw.ValidationError
			if errors.As(err, &ve) {
				return sw.Invalid(fmt.Sprintf("declared[%d].%s", i, ve.Field), "%s", ve.Message)
			}
			return err
		}
	}
	now := time.Now()
	for i := range hb.Checks {
		res := &hb.Checks[i]
		if !sw.HasPrefix(res.CheckID, sw.PrefixCheck) {
			return sw.Invalid(fmt.Sprintf("checks[%d].check_id", i), "must be a check id (chk_…)")
		}
		if res.At.IsZero() || res.At.After(now.Add(sw.MaxEventLead)) || res.At.Before(now.Add(-sw.MaxEventAge)) {
			return sw.Invalid(fmt.Sprintf("checks[%d].at", i), "must be within 30 days before and an hour after the server's clock")
		}
		if err := sw.CheckText(fmt.Sprintf("checks[%d].error", i), res.Error, 1000, false); err != nil {
			return err
		}
		if err := sw.CheckText(fmt.Sprintf("checks[%d].warning", i), res.Warning, 1000, false); err != nil {
			return err
		}
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
		for i := range hb.Declared {
			if err := s.declare(r.Context(), tx, c, &hb.Declared[i]); err != nil {
				return err
			}
		}
		for i := range hb.Checks {
			if err := s.checkResult(r.Context(), tx, c, i, &hb.Checks[i]); err != nil {
				return err
			}
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
	checks, err := s.store.NodeChecks(r.Context(), c.workspace, c.node)
	if err != nil {
		return err
	}
	if checks == nil {
		checks = []sw.Check{}
	}
	writeJSON(w, http.StatusOK, heartbeatOutput{Checks: checks, MitigationPolicy: c.node.MitigationPolicy})
	return nil
}
