package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/inbound"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Inbound events from other detectors are authenticated by a node token,
// like the agent's, and go through the same storage and automation: one
// transaction per request, a step already stored (the sender's id) counts
// as a duplicate.

type genericInput struct {
	Events []inbound.Event `json:"events"`
}

// inboundEvents takes the documented generic format.
func (s *Server) inboundEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in genericInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.Events) == 0 || len(in.Events) > maxBatch {
		return sw.Invalid("events", "must hold 1 to %d events", maxBatch)
	}
	return s.inboundTx(w, r, func(tx *store.Tx, out *eventsOutput) error {
		for i := range in.Events {
			stored, err := s.ingest(r.Context(), tx, c, &in.Events[i], "in-", fmt.Sprintf("events[%d].", i))
			if err != nil {
				return err
			}
			out.count(stored)
		}
		return nil
	})
}

// inboundTx runs fn in one transaction and answers what it counted: a
// request is stored whole or not at all.
func (s *Server) inboundTx(w http.ResponseWriter, r *http.Request, fn func(tx *store.Tx, out *eventsOutput) error) error {
	var out eventsOutput
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		out = eventsOutput{} // a retried transaction counts afresh
		return fn(tx, &out)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (o *eventsOutput) count(stored bool) {
	if stored {
		o.Accepted++
	} else {
		o.Duplicates++
	}
}

// inboundFastNetMon takes what deploy/fastnetmon-notify.sh posts.
func (s *Server) inboundFastNetMon(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in inbound.FastNetMon
	if err := decode(w, r, &in); err != nil {
		return err
	}
	return s.inboundTx(w, r, func(tx *store.Tx, out *eventsOutput) error {
		open, err := tx.OpenAttackOn(r.Context(), c.workspace, c.node.ID, in.IP, "fnm-")
		if errors.Is(err, store.ErrNotFound) {
			open, err = nil, nil
		}
		if err != nil {
			return err
		}
		e, err := inbound.FromFastNetMon(&in, open)
		if err != nil || e == nil {
			return err
		}
		stored, err := s.ingest(r.Context(), tx, c, e, "fnm-", "")
		out.count(stored)
		return err
	})
}

// inboundAlertmanager takes Alertmanager's webhook (version 4).
func (s *Server) inboundAlertmanager(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in inbound.AlertmanagerMessage
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Version != "4" {
		return sw.Invalid("version", "must be 4 (Alertmanager's webhook payload version), got %q", in.Version)
	}
	if len(in.Alerts) > maxBatch {
		return sw.Invalid("alerts", "at most %d alerts", maxBatch)
	}
	return s.inboundTx(w, r, func(tx *store.Tx, out *eventsOutput) error {
		for i := range in.Alerts {
			a := &in.Alerts[i]
			started := false
			if a.Fingerprint != "" && !a.StartsAt.IsZero() {
				prior, err := tx.Attack(r.Context(), c.workspace, fmt.Sprintf("am-%s-%d", a.Fingerprint, a.StartsAt.Unix()))
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				started = prior != nil && prior.Phase != sw.PhaseEnded
			}
			e, err := inbound.FromAlert(a, started)
			if err != nil {
				return fieldAt(err, fmt.Sprintf("alerts[%d].", i))
			}
			stored, err := s.ingest(r.Context(), tx, c, e, "am-", fmt.Sprintf("alerts[%d].", i))
			if err != nil {
				return err
			}
			out.count(stored)
		}
		return nil
	})
}

// ingest converts one generic step after what the store knows of its
// attack, stores it and runs the automation, in tx. It reports whether
// the step was new.
func (s *Server) ingest(ctx context.Context, tx *store.Tx, c *caller, in *inbound.Event, prefix, field string) (bool, error) {
	var prior *inbound.Prior
	atk, err := tx.Attack(ctx, c.workspace, prefix+in.AttackID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	case atk.NodeID != c.node.ID:
		return false, sw.Invalid(field+"attack_id", "names an attack another node reported")
	default:
		prior = &inbound.Prior{Seq: atk.Seq, StartedAt: atk.StartedAt, PeakPPS: atk.PeakPPS, PeakBPS: atk.PeakBPS}
	}
	e, err := inbound.Convert(in, prefix, prior, time.Now())
	if err != nil {
		return false, fieldAt(err, field)
	}
	stored, err := tx.RecordAttackEvent(ctx, c.workspace, c.node.ID, e)
	if err != nil || !stored {
		return false, err
	}
	if s.obs != nil {
		s.obs.AttackEvent(e.Type)
	}
	if s.auto == nil {
		return true, nil
	}
	return true, s.auto.Apply(ctx, tx, c.workspace, c.node, e)
}

// fieldAt prefixes a validation error's field.
func fieldAt(err error, prefix string) error {
	var ve *sw.ValidationError
	if prefix != "" && errors.As(err, &ve) {
		return sw.Invalid(prefix+ve.Field, "%s", ve.Message)
	}
	return err
}
