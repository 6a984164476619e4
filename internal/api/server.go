// Package api serves the JSON API under /api/v1/: the admin API, scoped to
// the workspace of the caller's API key, and its OpenAPI document.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Server answers /api/v1/ requests.
type Server struct {
	store  *store.Store
	log    *slog.Logger
	mux    *http.ServeMux
	routes []route
}

// caller is who sent an authenticated request.
type caller struct {
	workspace string
	key       *sw.APIKey
}

func (c *caller) actor() sw.Actor {
	return sw.Actor{Type: sw.ActorAPIKey, ID: c.key.ID, Name: c.key.Name}
}

// handler serves one route for an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

// route is one method and path of the API. A nil minRole means no
// authentication.
type route struct {
	method  string
	pattern string
	minRole sw.Role
	h       handler
}

// New returns the API server.
func New(st *store.Store, log *slog.Logger) *Server {
	s := &Server{store: st, log: log, mux: http.NewServeMux()}
	s.routes = s.table()
	byPattern := map[string][]route{}
	var order []string
	for _, rt := range s.routes {
		if _, ok := byPattern[rt.pattern]; !ok {
			order = append(order, rt.pattern)
		}
		byPattern[rt.pattern] = append(byPattern[rt.pattern], rt)
	}
	for _, p := range order {
		s.mux.Handle(p, s.dispatch(byPattern[p]))
	}
	s.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, apiError(http.StatusNotFound, "not_found", "no such API endpoint: "+r.URL.Path))
	})
	return s
}

func (s *Server) table() []route {
	const (
		viewer = sw.RoleViewer
		editor = sw.RoleEditor
		admin  = sw.RoleAdmin
	)
	return []route{
		{"GET", "/api/v1/openapi.json", "", s.openAPI},

		{"GET", "/api/v1/workspace", viewer, s.getWorkspace},
		{"PATCH", "/api/v1/workspace", admin, s.patchWorkspace},

		{"GET", "/api/v1/groups", viewer, listOf(s.store.Groups)},
		{"POST", "/api/v1/groups", editor, s.createGroup},
		{"GET", "/api/v1/groups/{id}", viewer, getOf("id", s.store.Group)},
		{"PATCH", "/api/v1/groups/{id}", editor, s.patchGroup},
		{"DELETE", "/api/v1/groups/{id}", editor, s.deleteOf("group.delete", "group", (*store.Tx).DeleteGroup)},

		{"GET", "/api/v1/components", viewer, listOf(s.store.Components)},
		{"POST", "/api/v1/components", editor, s.createComponent},
		{"GET", "/api/v1/components/{ref}", viewer, getOf("ref", s.store.Component)},
		{"PATCH", "/api/v1/components/{ref}", editor, s.patchComponent},
		{"DELETE", "/api/v1/components/{ref}", editor, s.deleteComponent},

		{"GET", "/api/v1/nodes", viewer, listOf(s.store.Nodes)},
		{"POST", "/api/v1/nodes", editor, s.createNode},
		{"GET", "/api/v1/nodes/{id}", viewer, getOf("id", s.store.Node)},
		{"PATCH", "/api/v1/nodes/{id}", editor, s.patchNode},
		{"DELETE", "/api/v1/nodes/{id}", editor, s.deleteOf("node.delete", "node", (*store.Tx).DeleteNode)},
		{"POST", "/api/v1/nodes/{id}/rotate-token", editor, s.rotateNodeToken},

		{"GET", "/api/v1/incidents", viewer, s.listIncidents},
		{"POST", "/api/v1/incidents", editor, s.createIncident},
		{"GET", "/api/v1/incidents/{id}", viewer, getOf("id", s.store.Incident)},
		{"PATCH", "/api/v1/incidents/{id}", editor, s.patchIncident},
		{"DELETE", "/api/v1/incidents/{id}", editor, s.deleteOf("incident.delete", "incident", (*store.Tx).DeleteIncident)},
		{"POST", "/api/v1/incidents/{id}/updates", editor, s.postIncidentUpdate},
		{"POST", "/api/v1/incidents/{id}/resolve", editor, s.resolveIncident},

		{"GET", "/api/v1/maintenances", viewer, listOf(s.store.Maintenances)},
		{"POST", "/api/v1/maintenances", editor, s.createMaintenance},
		{"GET", "/api/v1/maintenances/{id}", viewer, getOf("id", s.store.Maintenance)},
		{"PATCH", "/api/v1/maintenances/{id}", editor, s.patchMaintenance},
		{"DELETE", "/api/v1/maintenances/{id}", editor, s.deleteOf("maintenance.delete", "maintenance", (*store.Tx).DeleteMaintenance)},

		{"GET", "/api/v1/api-keys", admin, listOf(s.store.APIKeys)},
		{"POST", "/api/v1/api-keys", admin, s.createAPIKey},
		{"DELETE", "/api/v1/api-keys/{id}", admin, s.revokeAPIKey},

		{"GET", "/api/v1/audit-log", admin, listOf(s.store.AuditLog)},
	}
}

// ServeHTTP answers an /api/v1/ request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Routes lists "METHOD PATTERN" of every route, for the OpenAPI check.
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.method + " " + rt.pattern
	}
	return out
}

// dispatch picks the route of a path by method, answering 405 with the
// allowed methods in the API's error shape.
func (s *Server) dispatch(routes []route) http.Handler {
	allowed := make([]string, len(routes))
	for i, rt := range routes {
		allowed[i] = rt.method
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := slices.IndexFunc(routes, func(rt route) bool { return rt.method == r.Method })
		if i < 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, r, s.log, apiError(http.StatusMethodNotAllowed, "method_not_allowed",
				r.Method+" is not allowed here; allowed: "+strings.Join(allowed, ", ")))
			return
		}
		rt := routes[i]
		var c *caller
		if rt.minRole != "" {
			var err error
			if c, err = s.authenticate(r); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			if !c.key.Role.AtLeast(rt.minRole) {
				writeError(w, r, s.log, errForbidden)
				return
			}
		}
		if err := rt.h(w, r, c); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// authenticate finds the live API key of the request's bearer token.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !secret.HasKind(strings.TrimSpace(token), secret.KindAPIKey) {
		return nil, errUnauthorized
	}
	key, err := s.store.APIKeyByToken(r.Context(), strings.TrimSpace(token))
	if err != nil {
		if r.Context().Err() == nil && !isNotFound(err) {
			return nil, err
		}
		return nil, errUnauthorized
	}
	s.touch(r.Context(), key)
	return &caller{workspace: key.WorkspaceID, key: key}, nil
}

// touch records when a key was last used, at most once a minute per key so
// that reads do not each cost a write.
func (s *Server) touch(ctx context.Context, key *sw.APIKey) {
	if key.LastUsedAt != nil && time.Since(*key.LastUsedAt) < time.Minute {
		return
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.TouchAPIKey(ctx, key.WorkspaceID, key.ID) })
	if err != nil {
		// Only the key's last-used time is lost; the request goes on.
		s.log.WarnContext(ctx, "record api key use", "key", key.ID, "err", err)
	}
}

// mutate runs fn in a transaction together with its audit entry.
func (s *Server) mutate(r *http.Request, c *caller, action, targetType string, fn func(tx *store.Tx) (targetID string, details any, err error)) error {
	return s.store.Tx(r.Context(), func(tx *store.Tx) error {
		id, details, err := fn(tx)
		if err != nil {
			return err
		}
		e := &sw.AuditEntry{Actor: c.actor(), Action: action, TargetType: targetType, TargetID: id}
		if details != nil {
			if e.Details, err = json.Marshal(details); err != nil {
				return err
			}
		}
		return tx.Audit(r.Context(), c.workspace, e)
	})
}
