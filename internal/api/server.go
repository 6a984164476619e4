// Package api serves the JSON API under /api/v1/: the admin API, scoped to
// the workspace of the caller's API key, and its OpenAPI document.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/domains"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/secret"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Server answers /api/v1/ requests.
type Server struct {
	store   *store.Store
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []route
	auto    Automation
	obs     Observer
	guard   *notify.Guard
	checker *domains.Checker
	mon     *monitor.Monitor
	invites *invites
}

// WithMonitor records check results from agents with m.
func WithMonitor(m *monitor.Monitor) Option { return func(s *Server) { s.mon = m } }

// Automation turns a newly stored attack event into incident changes, in
// the transaction that stored it.
type Automation interface {
	Apply(ctx context.Context, tx *store.Tx, ws string, node *sw.Node, e *sw.AttackEvent) error
	// NodeAlive ends a node_unreachable spell when heartbeats return.
	NodeAlive(ctx context.Context, tx *store.Tx, ws string, node *sw.Node) error
}

// Option configures a Server.
type Option func(*Server)

// WithAutomation runs a for every new attack event.
func WithAutomation(a Automation) Option { return func(s *Server) { s.auto = a } }

// Observer hears what the agent API receives, for metrics.
type Observer interface {
	Heartbeat()
	AttackEvent(typ string)
}

// WithObserver tells o of every heartbeat and new attack event.
func WithObserver(o Observer) Option { return func(s *Server) { s.obs = o } }

// WithWebhookGuard sets the SSRF policy for webhook subscribers (default:
// public addresses only).
func WithWebhookGuard(g *notify.Guard) Option { return func(s *Server) { s.guard = g } }

// caller is who sent an authenticated request: an API key, or (on the
// agent routes) a node.
type caller struct {
	workspace string
	key       *sw.APIKey
	node      *sw.Node
}

func (c *caller) actor() sw.Actor {
	if c.node != nil {
		return sw.Actor{Type: sw.ActorNode, ID: c.node.ID, Name: c.node.Name}
	}
	return sw.Actor{Type: sw.ActorAPIKey, ID: c.key.ID, Name: c.key.Name}
}

// handler serves one route for an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

// route is one method and path of the API. minRole is what an API key
// needs; "" with node false means no authentication; node routes take a
// node token instead.
type route struct {
	method  string
	pattern string
	minRole sw.Role
	h       handler
	node    bool
}

// New returns the API server.
func New(st *store.Store, log *slog.Logger, opts ...Option) *Server {
	s := &Server{store: st, log: log, mux: http.NewServeMux(), guard: &notify.Guard{}, mon: monitor.New(nil, log)}
	for _, o := range opts {
		o(s)
	}
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
		{"GET", "/api/v1/openapi.json", "", s.openAPI, false},

		{"POST", "/api/v1/agent/events", "", s.agentEvents, true},
		{"POST", "/api/v1/agent/heartbeat", "", s.agentHeartbeat, true},
		{"PUT", "/api/v1/agent/attacks/{id}/pcap", "", s.agentCapture, true},
		{"POST", "/api/v1/agent/mitigations", "", s.agentMitigation, true},
		{"POST", "/api/v1/inbound/events", "", s.inboundEvents, true},
		{"POST", "/api/v1/inbound/fastnetmon", "", s.inboundFastNetMon, true},
		{"POST", "/api/v1/inbound/alertmanager", "", s.inboundAlertmanager, true},

		{"GET", "/api/v1/attacks", viewer, listOf(s.store.Attacks), false},
		{"GET", "/api/v1/attacks/{id}", viewer, getOf("id", s.store.Attack), false},
		{"GET", "/api/v1/attacks/{id}/pcap", viewer, s.attackCapture, false},

		{"GET", "/api/v1/workspace", viewer, s.getWorkspace, false},
		{"PATCH", "/api/v1/workspace", admin, s.patchWorkspace, false},
		{"GET", "/api/v1/page-access", admin, s.getPageAccess, false},
		{"PUT", "/api/v1/page-access", admin, s.putPageAccess, false},
		{"GET", "/api/v1/page-access/invites", admin, s.listPageInvites, false},
		{"POST", "/api/v1/page-access/invites", admin, s.createPageInvite, false},
		{"DELETE", "/api/v1/page-access/invites/{id}", admin, s.deletePageInvite, false},

		{"GET", "/api/v1/groups", viewer, listOf(s.store.Groups), false},
		{"POST", "/api/v1/groups", editor, s.createGroup, false},
		{"GET", "/api/v1/groups/{id}", viewer, getOf("id", s.store.Group), false},
		{"PATCH", "/api/v1/groups/{id}", editor, s.patchGroup, false},
		{"DELETE", "/api/v1/groups/{id}", editor, s.deleteOf("group.delete", "group", (*store.Tx).DeleteGroup), false},

		{"GET", "/api/v1/components", viewer, listOf(s.store.Components), false},
		{"POST", "/api/v1/components", editor, s.createComponent, false},
		{"GET", "/api/v1/components/{ref}", viewer, getOf("ref", s.store.Component), false},
		{"PATCH", "/api/v1/components/{ref}", editor, s.patchComponent, false},
		{"DELETE", "/api/v1/components/{ref}", editor, s.deleteComponent, false},

		{"GET", "/api/v1/nodes", viewer, listOf(s.store.Nodes), false},
		{"POST", "/api/v1/nodes", editor, s.createNode, false},
		{"GET", "/api/v1/nodes/{id}", viewer, getOf("id", s.store.Node), false},
		{"PATCH", "/api/v1/nodes/{id}", editor, s.patchNode, false},
		{"DELETE", "/api/v1/nodes/{id}", editor, s.deleteOf("node.delete", "node", (*store.Tx).DeleteNode), false},
		{"POST", "/api/v1/nodes/{id}/rotate-token", editor, s.rotateNodeToken, false},

		{"GET", "/api/v1/incidents", viewer, s.listIncidents, false},
		{"POST", "/api/v1/incidents", editor, s.createIncident, false},
		{"GET", "/api/v1/incidents/{id}", viewer, getOf("id", s.store.Incident), false},
		{"PATCH", "/api/v1/incidents/{id}", editor, s.patchIncident, false},
		{"DELETE", "/api/v1/incidents/{id}", editor, s.deleteOf("incident.delete", "incident", (*store.Tx).DeleteIncident), false},
		{"POST", "/api/v1/incidents/{id}/updates", editor, s.postIncidentUpdate, false},
		{"POST", "/api/v1/incidents/{id}/resolve", editor, s.resolveIncident, false},
		{"PUT", "/api/v1/incidents/{id}/postmortem", editor, s.putPostmortem, false},
		{"GET", "/api/v1/incidents/{id}/postmortem/draft", viewer, s.postmortemDraft, false},

		{"GET", "/api/v1/incident-templates", viewer, listOf(s.store.IncidentTemplates), false},
		{"POST", "/api/v1/incident-templates", editor, s.createTemplate, false},
		{"GET", "/api/v1/incident-templates/{id}", viewer, getOf("id", s.store.IncidentTemplate), false},
		{"PATCH", "/api/v1/incident-templates/{id}", editor, s.patchTemplate, false},
		{"DELETE", "/api/v1/incident-templates/{id}", editor, s.deleteTemplate, false},

		{"GET", "/api/v1/maintenances", viewer, listOf(s.store.Maintenances), false},
		{"POST", "/api/v1/maintenances", editor, s.createMaintenance, false},
		{"GET", "/api/v1/maintenances/{id}", viewer, getOf("id", s.store.Maintenance), false},
		{"PATCH", "/api/v1/maintenances/{id}", editor, s.patchMaintenance, false},
		{"DELETE", "/api/v1/maintenances/{id}", editor, s.deleteOf("maintenance.delete", "maintenance", (*store.Tx).DeleteMaintenance), false},

		{"GET", "/api/v1/api-keys", admin, listOf(s.store.APIKeys), false},
		{"POST", "/api/v1/api-keys", admin, s.createAPIKey, false},
		{"DELETE", "/api/v1/api-keys/{id}", admin, s.revokeAPIKey, false},

		{"GET", "/api/v1/subscribers", editor, s.listSubscribers, false},
		{"POST", "/api/v1/subscribers", editor, s.createSubscriber, false},
		{"GET", "/api/v1/subscribers/export", editor, s.exportSubscribers, false},
		{"POST", "/api/v1/subscribers/import", editor, s.importSubscribers, false},
		{"GET", "/api/v1/subscribers/{id}", editor, getOf("id", s.store.Subscriber), false},
		{"PATCH", "/api/v1/subscribers/{id}", editor, s.patchSubscriber, false},
		{"DELETE", "/api/v1/subscribers/{id}", editor, s.deleteOf("subscriber.delete", "subscriber", (*store.Tx).DeleteSubscriber), false},

		{"GET", "/api/v1/deliveries", editor, s.listDeliveries, false},
		{"GET", "/api/v1/deliveries/{id}", editor, s.getDelivery, false},

		{"GET", "/api/v1/domains", viewer, s.listDomains, false},
		{"POST", "/api/v1/domains", admin, s.createDomain, false},
		{"GET", "/api/v1/domains/{id}", viewer, s.getDomain, false},
		{"POST", "/api/v1/domains/{id}/verify", admin, s.verifyDomain, false},
		{"DELETE", "/api/v1/domains/{id}", admin, s.deleteOf("domain.delete", "domain", (*store.Tx).DeleteDomain), false},

		{"GET", "/api/v1/audit-log", admin, listOf(s.store.AuditLog), false},

		{"GET", "/api/v1/checks", viewer, listOf(s.store.Checks), false},
		{"POST", "/api/v1/checks", editor, s.createCheck, false},
		{"GET", "/api/v1/checks/{id}", viewer, getOf("id", s.store.Check), false},
		{"PATCH", "/api/v1/checks/{id}", editor, s.patchCheck, false},
		{"DELETE", "/api/v1/checks/{id}", editor, s.deleteCheck, false},

		{"GET", "/api/v1/uptime", viewer, s.uptimeReport, false},

		{"GET", "/api/v1/rules", viewer, s.getRules, false},
		{"PUT", "/api/v1/rules", admin, s.putRules, false},
		{"POST", "/api/v1/rules/check", viewer, s.checkRules, false},
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

// AgentRoutes lists the routes that take a node token.
func (s *Server) AgentRoutes() []string {
	var out []string
	for _, rt := range s.routes {
		if rt.node {
			out = append(out, rt.method+" "+rt.pattern)
		}
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
		if rt.node {
			var err error
			if c, err = s.authenticateNode(r); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		} else if rt.minRole != "" {
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

// authenticateNode finds the node of the request's bearer token.
func (s *Server) authenticateNode(r *http.Request) (*caller, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || !secret.HasKind(token, secret.KindNodeToken) {
		return nil, errNodeUnauthorized
	}
	n, err := s.store.NodeByToken(r.Context(), token)
	if err != nil {
		if r.Context().Err() == nil && !isNotFound(err) {
			return nil, err
		}
		return nil, errNodeUnauthorized
	}
	return &caller{workspace: n.WorkspaceID, node: n}, nil
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
	return s.store.Audited(r.Context(), c.workspace, c.actor(), action, targetType, fn)
}
