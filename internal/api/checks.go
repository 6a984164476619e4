package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/store"
)

// checkInput is what a client may set on a check; absent fields keep
// their value (PATCH) or default (POST).
type checkInput struct {
	Component    *string      `json:"component"`
	Name         *string      `json:"name"`
	Type         *string      `json:"type"`
	Target       *string      `json:"target"`
	Interval     *sw.Duration `json:"interval"`
	Timeout      *sw.Duration `json:"timeout"`
	Failures     *int         `json:"failures"`
	Nodes        *[]string    `json:"nodes"`
	Method       *string      `json:"method"`
	ExpectStatus *string      `json:"expect_status"`
	BodyMatch    *string      `json:"body_match"`
	CertExpiry   *sw.Duration `json:"cert_expiry"`
	Record       *string      `json:"record"`
	Server       *string      `json:"server"`
	Expect       *string      `json:"expect"`
	Payload      *string      `json:"payload"`
}

func (in *checkInput) apply(k *sw.Check) {
	setIf(&k.Component, in.Component)
	setIf(&k.Name, in.Name)
	setIf(&k.Type, in.Type)
	setIf(&k.Target, in.Target)
	setIf(&k.Interval, in.Interval)
	setIf(&k.Timeout, in.Timeout)
	setIf(&k.Failures, in.Failures)
	setIf(&k.Nodes, in.Nodes)
	setIf(&k.Method, in.Method)
	setIf(&k.ExpectStatus, in.ExpectStatus)
	setIf(&k.BodyMatch, in.BodyMatch)
	setIf(&k.CertExpiry, in.CertExpiry)
	setIf(&k.Record, in.Record)
	setIf(&k.Server, in.Server)
	setIf(&k.Expect, in.Expect)
	setIf(&k.Payload, in.Payload)
}

func (s *Server) vetCheck(ctx context.Context, k *sw.Check) error {
	return monitor.Vet(ctx, s.guard, k)
}

func (s *Server) createCheck(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in checkInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k := &sw.Check{WorkspaceID: c.workspace}
	in.apply(k)
	if err := s.vetCheck(r.Context(), k); err != nil {
		return err
	}
	err := s.mutate(r, c, "check.create", "check", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateCheck(r.Context(), k)
		return k.ID, map[string]any{"name": k.Name, "type": k.Type, "component": k.Component}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) patchCheck(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in checkInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var k *sw.Check
	err := s.mutate(r, c, "check.update", "check", func(tx *store.Tx) (string, any, error) {
		var err error
		if k, err = tx.Check(r.Context(), c.workspace, r.PathValue("id")); err != nil {
			return "", nil, err
		}
		in.apply(k)
		if err := s.vetCheck(r.Context(), k); err != nil {
			return "", nil, err
		}
		return k.ID, in, tx.UpdateCheck(r.Context(), k)
	})
	if err != nil {
		return err
	}
	k.State = []sw.CheckLocation{}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// deleteCheck ends the check's signal (an incident it holds open may
// resolve) and removes it.
func (s *Server) deleteCheck(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.mutate(r, c, "check.delete", "check", func(tx *store.Tx) (string, any, error) {
		k, err := s.mon.Delete(r.Context(), tx, c.workspace, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		return k.ID, map[string]any{"name": k.Name}, nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// declare adds or updates a check the caller's node declares in its
// agent's YAML: a new name is a new check run from that node; a name that
// exists takes the declared settings and adds the node to its locations
// (the same file on two agents is one check seen from two places).
// Nothing is written when nothing changed.
func (s *Server) declare(ctx context.Context, tx *store.Tx, c *caller, k *sw.Check) error {
	old, err := tx.Check(ctx, c.workspace, k.Name)
	if errors.Is(err, store.ErrNotFound) {
		k.WorkspaceID = c.workspace
		if err := tx.CreateCheck(ctx, k); err != nil {
			return err
		}
		return s.auditNode(ctx, tx, c, "check.declare", k)
	}
	if err != nil {
		return err
	}
	merged := *k
	merged.ID, merged.WorkspaceID, merged.CreatedAt, merged.UpdatedAt, merged.State = old.ID, old.WorkspaceID, old.CreatedAt, old.UpdatedAt, old.State
	merged.ComponentID = old.ComponentID
	merged.Nodes = old.Nodes
	if !old.RunsOn(c.node.Name) {
		merged.Nodes = append(append([]string{}, old.Nodes...), c.node.Name)
	}
	if old.Component != merged.Component && old.ComponentID == merged.Component {
		merged.Component = old.Component
	}
	if sameCheck(old, &merged) {
		return nil
	}
	if err := tx.UpdateCheck(ctx, &merged); err != nil {
		return err
	}
	return s.auditNode(ctx, tx, c, "check.declare", &merged)
}

func sameCheck(a, b *sw.Check) bool {
	x, y := *a, *b
	x.State, y.State = nil, nil
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func (s *Server) auditNode(ctx context.Context, tx *store.Tx, c *caller, action string, k *sw.Check) error {
	raw, err := json.Marshal(map[string]any{"name": k.Name, "type": k.Type, "component": k.Component, "nodes": k.Nodes})
	if err != nil {
		return err
	}
	return tx.Audit(ctx, c.workspace, &sw.AuditEntry{Actor: c.actor(), Action: action, TargetType: "check", TargetID: k.ID, Details: raw})
}
