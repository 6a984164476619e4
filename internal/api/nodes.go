package api

import (
	"encoding/json"
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/mitigation"
	"github.com/stormwatch/stormwatch/internal/store"
)

type nodeInput struct {
	Name       *string  `json:"name"`
	Components []string `json:"components"`
	// MitigationPolicy overrides the agent's --bgp policy; null removes
	// the override.
	MitigationPolicy json.RawMessage `json:"mitigation_policy"`
}

// nodeWithToken is a node as answered when its token is made: the only
// time the token is shown.
type nodeWithToken struct {
	*sw.Node
	Token string `json:"token"`
}

func (s *Server) createNode(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in nodeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	n := &sw.Node{WorkspaceID: c.workspace}
	setIf(&n.Name, in.Name)
	if in.Components == nil {
		in.Components = []string{}
	}
	var token string
	err := s.mutate(r, c, "node.create", "node", func(tx *store.Tx) (string, any, error) {
		var err error
		token, err = tx.CreateNode(r.Context(), n, in.Components)
		return n.ID, map[string]any{"name": n.Name, "components": n.Components}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, nodeWithToken{Node: n, Token: token})
	return nil
}

func (s *Server) patchNode(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in nodeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var n *sw.Node
	err := s.mutate(r, c, "node.update", "node", func(tx *store.Tx) (string, any, error) {
		var err error
		if n, err = tx.Node(r.Context(), c.workspace, r.PathValue("id")); err != nil {
			return "", nil, err
		}
		setIf(&n.Name, in.Name)
		if in.MitigationPolicy != nil { // absent: unchanged; null: removed
			n.MitigationPolicy = nil
			if raw := in.MitigationPolicy; string(raw) != "null" {
				p, err := mitigation.ParsePolicy(raw)
				if err != nil {
					return "", nil, sw.Invalid("mitigation_policy", "%v", err)
				}
				n.MitigationPolicy, _ = json.Marshal(p) // stored as read back, defaults filled
			}
		}
		return n.ID, in, tx.UpdateNode(r.Context(), n, in.Components)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *Server) rotateNodeToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	var n *sw.Node
	var token string
	err := s.mutate(r, c, "node.rotate_token", "node", func(tx *store.Tx) (string, any, error) {
		id := r.PathValue("id")
		var err error
		if token, err = tx.RotateNodeToken(r.Context(), c.workspace, id); err != nil {
			return "", nil, err
		}
		n, err = tx.Node(r.Context(), c.workspace, id)
		return id, nil, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nodeWithToken{Node: n, Token: token})
	return nil
}
