package api

import (
	"context"
	"net"
	"net/http"
	"net/url"

	sw "github.com/stormwatch/stormwatch"
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

// vetCheck applies the defaults, validates, and keeps checks the server
// runs itself off internal addresses unless the operator allows them (a
// tenant must not probe the operator's network: SSRF).
func (s *Server) vetCheck(ctx context.Context, k *sw.Check) error {
	if k.Component == "" {
		return sw.Invalid("component", "is required: the slug or id of the component the check watches")
	}
	k.Defaults()
	if err := k.Validate(); err != nil {
		return err
	}
	if len(k.Nodes) > 0 {
		return nil // agents check their own networks
	}
	host := k.Target
	switch k.Type {
	case sw.CheckHTTP:
		return fieldOf("target", s.guard.CheckURL(ctx, k.Target))
	case sw.CheckTCP, sw.CheckUDP:
		host, _, _ = net.SplitHostPort(k.Target)
	case sw.CheckDNS:
		if k.Server == "" {
			return nil // the server's own resolver
		}
		h, _, _ := net.SplitHostPort(k.Server)
		return fieldOf("server", s.guard.CheckURL(ctx, "http://"+net.JoinHostPort(h, "53")+"/"))
	}
	return fieldOf("target", s.guard.CheckURL(ctx, (&url.URL{Scheme: "http", Host: host, Path: "/"}).String()))
}

// fieldOf renames the field of a webhook guard's refusal.
func fieldOf(field string, err error) error {
	if ve, ok := err.(*sw.ValidationError); ok {
		return sw.Invalid(field, "%s (checks run by the server; give the check a node to probe private networks from an agent)", ve.Message)
	}
	return err
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
		k, err := tx.Check(r.Context(), c.workspace, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		if s.mon != nil {
			if err := tx.ForgetCheckLocations(r.Context(), k.ID); err != nil {
				return "", nil, err
			}
			if err := s.mon.Judge(r.Context(), tx, c.workspace, k); err != nil {
				return "", nil, err
			}
		}
		return k.ID, map[string]any{"name": k.Name}, tx.DeleteCheck(r.Context(), c.workspace, k.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
