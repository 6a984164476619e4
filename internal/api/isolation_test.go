package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// fixture is one workspace filled with one object of every kind.
type fixture struct {
	ws, key, revokedKey string
	nodeToken           string
	ids                 map[string]string // path parameter by route prefix
}

func fill(t *testing.T, e *env, slug string) fixture {
	t.Helper()
	ws, key := e.workspace(slug, sw.RoleOwner)
	f := fixture{ws: ws, key: key, ids: map[string]string{}}
	g := e.must(201, "POST", "/api/v1/groups", key, map[string]any{"name": "G " + slug})
	c := e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "Edge " + slug, "slug": "edge", "group_id": g["id"]})
	n := e.must(201, "POST", "/api/v1/nodes", key, map[string]any{"name": "n-" + slug, "components": []string{"edge"}})
	sub := e.must(201, "POST", "/api/v1/subscribers", key, map[string]any{"type": "webhook", "url": "https://hooks.example.com/" + slug})
	f.ids["/api/v1/subscribers/"] = sub["id"].(string)
	i := e.must(201, "POST", "/api/v1/incidents", key, map[string]any{"title": "I " + slug, "components": map[string]string{"edge": "major_outage"}})
	m := e.must(201, "POST", "/api/v1/maintenances", key, map[string]any{"title": "M " + slug,
		"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z", "components": []string{"edge"}})
	k := e.must(201, "POST", "/api/v1/api-keys", key, map[string]any{"name": "extra", "role": "viewer"})
	atk := "atk_" + slug
	e.must(200, "POST", "/api/v1/agent/events", n["token"].(string), map[string]any{"events": []any{sampleEvent(atk, 1)}})
	f.nodeToken = n["token"].(string)
	revokedID, revoked := e.key(ws, sw.RoleOwner)
	e.must(204, "DELETE", "/api/v1/api-keys/"+revokedID, key, nil)
	f.revokedKey = revoked
	f.ids["/api/v1/groups/"] = g["id"].(string)
	f.ids["/api/v1/components/"] = c["id"].(string)
	f.ids["/api/v1/nodes/"] = n["id"].(string)
	f.ids["/api/v1/incidents/"] = i["id"].(string)
	f.ids["/api/v1/maintenances/"] = m["id"].(string)
	f.ids["/api/v1/api-keys/"] = k["id"].(string)
	f.ids["/api/v1/attacks/"] = atk
	f.ids["/api/v1/deliveries/"] = fanOut(t, e.store, ws)
	chk := e.must(201, "POST", "/api/v1/checks", key, map[string]any{"component": "edge", "name": "edge tcp", "type": "tcp",
		"target": "edge." + slug + ".example.com:443", "nodes": []string{"*"}})
	f.ids["/api/v1/checks/"] = chk["id"].(string)
	tpl := e.must(201, "POST", "/api/v1/incident-templates", key, map[string]any{"name": "ddos " + slug, "title": "Attack on " + slug})
	f.ids["/api/v1/incident-templates/"] = tpl["id"].(string)
	d := e.must(201, "POST", "/api/v1/domains", key, map[string]any{"hostname": "status." + slug + ".example.com"})
	f.ids["/api/v1/domains/"] = d["id"].(string)
	if err := e.store.Tx(context.Background(), func(tx *store.Tx) error {
		inv, err := tx.CreatePageInvite(context.Background(), ws, "reader@"+slug+".example.com")
		if err == nil {
			f.ids["/api/v1/page-access/invites/"] = inv.ID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// path fills a route pattern's parameter with f's object of that kind.
func (f fixture) path(t *testing.T, pattern string) string {
	t.Helper()
	for prefix, id := range f.ids {
		if strings.HasPrefix(pattern, prefix) && strings.Contains(pattern, "{") {
			open := strings.Index(pattern, "{")
			end := strings.Index(pattern, "}")
			return pattern[:open] + id + pattern[end+1:]
		}
	}
	if strings.Contains(pattern, "{") {
		t.Fatalf("no fixture object for route %s; add one to fill()", pattern)
	}
	return pattern
}

// bodyFor is a valid body for a route, so that only authorisation can
// make the request fail.
func bodyFor(method, pattern string) any {
	switch {
	case method == "GET" || method == "DELETE":
		return nil
	case strings.HasSuffix(pattern, "/postmortem"):
		return map[string]any{"markdown": "x", "publish": true}
	case strings.HasSuffix(pattern, "/updates"):
		return map[string]any{"message": "x"}
	case strings.HasSuffix(pattern, "/resolve"), strings.HasSuffix(pattern, "/rotate-token"):
		return nil
	case strings.HasPrefix(pattern, "/api/v1/maintenances"):
		return map[string]any{"title": "x", "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-02T01:00:00Z"}
	case strings.HasPrefix(pattern, "/api/v1/incidents"):
		return map[string]any{"title": "x"}
	case strings.HasPrefix(pattern, "/api/v1/rules") && method == "GET":
		return nil
	case strings.HasPrefix(pattern, "/api/v1/rules"):
		return map[string]any{"rules": "severity >= high -> publish immediately"}
	case strings.HasPrefix(pattern, "/api/v1/subscribers") && method == "PATCH":
		return map[string]any{"min_impact": "minor"}
	case strings.HasPrefix(pattern, "/api/v1/subscribers"):
		return map[string]any{"type": "email", "email": "ops@example.com"}
	case strings.HasSuffix(pattern, "/verify"):
		return nil
	case strings.HasPrefix(pattern, "/api/v1/domains"):
		return map[string]any{"hostname": "status.other.example.com"}
	case strings.HasPrefix(pattern, "/api/v1/incident-templates"):
		return map[string]any{"name": "x", "title": "x"}
	case strings.HasPrefix(pattern, "/api/v1/checks") && method == "POST":
		return map[string]any{"component": "edge", "name": "x", "type": "tcp", "target": "x.example.com:80", "nodes": []string{"*"}}
	case strings.HasPrefix(pattern, "/api/v1/api-keys"):
		return map[string]any{"name": "x", "role": "viewer"}
	case pattern == "/api/v1/page-access":
		return map[string]any{"private": true, "password": "correct horse battery"}
	case strings.HasPrefix(pattern, "/api/v1/page-access/invites"):
		return map[string]any{"email": "reader@example.com"}
	}
	return map[string]any{"name": "x"}
}

func TestTenantIsolationOnEveryRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := fill(t, e, "alpha")
		b := fill(t, e, "beta")
		secretsOfA := []string{a.ws, a.key}
		for _, id := range a.ids {
			secretsOfA = append(secretsOfA, id)
		}
		for _, rt := range e.api.Routes() {
			method, pattern, _ := strings.Cut(rt, " ")
			if pattern == "/api/v1/openapi.json" || strings.HasPrefix(pattern, "/api/v1/agent/") || strings.HasPrefix(pattern, "/api/v1/inbound/") {
				continue
			}
			path := a.path(t, pattern)
			t.Run(rt, func(t *testing.T) {
				before := revision(t, st, a.ws)
				if strings.Contains(pattern, "{") {
					r := e.do(method, path, b.key, bodyFor(method, pattern))
					if r.status != http.StatusNotFound || r.errorCode(t) != "not_found" {
						t.Errorf("beta's key on alpha's object: %d %s, want 404 not_found", r.status, r.body)
					}
				} else {
					r := e.do(method, path, b.key, bodyFor(method, pattern))
					for _, s := range secretsOfA {
						if strings.Contains(string(r.body), s) {
							t.Errorf("beta's key sees alpha's %s in %s", s, r.body)
						}
					}
				}
				r := e.do(method, path, a.revokedKey, bodyFor(method, pattern))
				if r.status != http.StatusUnauthorized || r.errorCode(t) != "unauthorized" {
					t.Errorf("revoked key: %d %s, want 401", r.status, r.body)
				}
				r = e.do(method, path, "", bodyFor(method, pattern))
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("no key: %d, want 401 with WWW-Authenticate", r.status)
				}
				if r := e.do(method, path, a.nodeToken, bodyFor(method, pattern)); r.status != http.StatusUnauthorized {
					t.Errorf("node token on an admin route: %d, want 401", r.status)
				}
				if after := revision(t, st, a.ws); after != before {
					t.Errorf("alpha's page revision moved %d -> %d", before, after)
				}
			})
		}
	})
}

func revision(t *testing.T, st *store.Store, ws string) int64 {
	t.Helper()
	w, err := st.Workspace(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return w.Revision
}

func TestRoles(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st)
	ws, owner := e.workspace("acme", sw.RoleOwner)
	_, viewer := e.key(ws, sw.RoleViewer)
	_, editor := e.key(ws, sw.RoleEditor)
	adminID, admin := e.key(ws, sw.RoleAdmin)
	tests := []struct {
		name         string
		key          string
		method, path string
		body         any
		want         int
	}{
		{"viewer reads", viewer, "GET", "/api/v1/components", nil, 200},
		{"viewer cannot create", viewer, "POST", "/api/v1/components", map[string]any{"name": "x"}, 403},
		{"viewer cannot open incidents", viewer, "POST", "/api/v1/incidents", map[string]any{"title": "x"}, 403},
		{"editor creates", editor, "POST", "/api/v1/components", map[string]any{"name": "y"}, 201},
		{"editor cannot list keys", editor, "GET", "/api/v1/api-keys", nil, 403},
		{"editor cannot make keys", editor, "POST", "/api/v1/api-keys", map[string]any{"name": "k"}, 403},
		{"editor cannot read audit", editor, "GET", "/api/v1/audit-log", nil, 403},
		{"editor cannot change workspace", editor, "PATCH", "/api/v1/workspace", map[string]any{"name": "n"}, 403},
		{"admin cannot make owner keys", admin, "POST", "/api/v1/api-keys", map[string]any{"name": "k", "role": "owner"}, 403},
		{"admin makes editor keys", admin, "POST", "/api/v1/api-keys", map[string]any{"name": "k", "role": "editor"}, 201},
		{"owner makes owner keys", owner, "POST", "/api/v1/api-keys", map[string]any{"name": "k", "role": "owner"}, 201},
		{"owner revokes admin", owner, "DELETE", "/api/v1/api-keys/" + adminID, nil, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.key, tt.body)
			if r.status != tt.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.want)
			}
		})
	}
}

// sampleEvent is a valid attack event.
// sampleEvent is an event of an attack that started three days ago (in
// the window the server accepts, outside a one-day replay).
func sampleEvent(attack string, seq int) map[string]any {
	started := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)
	return map[string]any{"id": attack + "-" + strconv.Itoa(seq), "type": "attack.started", "attack_id": attack, "seq": seq,
		"at": started.Add(time.Second), "target": "203.0.113.7", "phase": "detected", "severity": "high",
		"classification": "dns_amplification", "confidence": 0.9, "title": "UDP flood (DNS amplification) on 203.0.113.7 — 3.2 Gbps",
		"vectors": []any{map[string]any{"type": "amplification", "service": "dns", "port": 53, "proto": "udp", "pps": 280000, "bps": 3200000000, "confidence": 0.9}},
		"pps":     280000, "bps": 3200000000, "peak_pps": 280000, "peak_bps": 3200000000, "distinct_sources": 1200,
		"top_sources": []any{map[string]any{"addr": "198.51.100.1", "pps": 5000}}, "started_at": started}
}

func TestAgentRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := fill(t, e, "alpha")
		b := fill(t, e, "beta")
		for _, rt := range e.api.AgentRoutes() {
			method, path, _ := strings.Cut(rt, " ")
			if r := e.do(method, path, a.key, map[string]any{}); r.status != http.StatusUnauthorized {
				t.Errorf("%s with an API key: %d, want 401", rt, r.status)
			}
			if r := e.do(method, path, "swn_"+strings.Repeat("x", 32), map[string]any{}); r.status != http.StatusUnauthorized {
				t.Errorf("%s with an unknown node token: %d, want 401", rt, r.status)
			}
		}
		batch := map[string]any{"events": []any{sampleEvent("atk_x", 1), sampleEvent("atk_x", 2)}}
		got := e.must(200, "POST", "/api/v1/agent/events", a.nodeToken, batch)
		if got["accepted"] != 2.0 || got["duplicates"] != 0.0 {
			t.Fatalf("first batch: %v", got)
		}
		got = e.must(200, "POST", "/api/v1/agent/events", a.nodeToken, batch)
		if got["accepted"] != 0.0 || got["duplicates"] != 2.0 {
			t.Fatalf("retried batch: %v", got)
		}
		replay := e.must(200, "POST", "/api/v1/rules/check", a.key, map[string]any{"rules": "severity >= high -> publish immediately", "replay_days": 1})
		// The sample attacks started three days ago: outside the past day.
		if items, ok := replay["replay"].([]any); !ok || len(items) != 0 {
			t.Fatalf("replay of the past day: %v", replay["replay"])
		}
		atk := e.must(200, "GET", "/api/v1/attacks/atk_x", a.key, nil)
		if len(atk["timeline"].([]any)) != 2 || atk["classification"] != "dns_amplification" || atk["severity"] != "high" {
			t.Fatalf("attack = %v", atk)
		}
		if r := e.do("GET", "/api/v1/attacks/atk_x", b.key, nil); r.status != 404 {
			t.Fatalf("beta sees alpha's attack: %d", r.status)
		}
		// Bad input is refused whole, naming the event and field.
		bad := sampleEvent("atk_y", 1)
		bad["severity"] = "apocalyptic"
		r := e.do("POST", "/api/v1/agent/events", a.nodeToken, map[string]any{"events": []any{sampleEvent("atk_y", 2), bad}})
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"events[1].severity"`) {
			t.Fatalf("bad event: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/attacks/atk_y", a.key, nil); r.status != 404 {
			t.Fatalf("a refused batch left attack atk_y behind: %d", r.status)
		}
		hb := e.must(200, "POST", "/api/v1/agent/heartbeat", a.nodeToken, map[string]any{"agent_version": "dev", "pps": 1000, "bps": 8000000})
		// The answer lists the node's own checks, never another tenant's.
		if cs := hb["checks"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != a.ids["/api/v1/checks/"] {
			t.Fatalf("heartbeat checks = %v", hb["checks"])
		}
		// A result for another tenant's check changes nothing there.
		e.must(200, "POST", "/api/v1/agent/heartbeat", b.nodeToken, map[string]any{"checks": []any{map[string]any{
			"check_id": a.ids["/api/v1/checks/"], "at": time.Now().UTC().Format(time.RFC3339Nano), "ok": false, "up": false, "runs": 1, "fails": 1}}})
		if st := e.must(200, "GET", "/api/v1/checks/"+a.ids["/api/v1/checks/"], a.key, nil)["state"].([]any); len(st) != 0 {
			t.Fatalf("beta's node reported on alpha's check: %v", st)
		}
		nodes := e.must(200, "GET", "/api/v1/nodes", a.key, nil)["data"].([]any)
		if nodes[0].(map[string]any)["last_heartbeat_at"] == nil {
			t.Fatal("heartbeat not recorded")
		}
	})
}

// fanOut turns workspace ws's notification events into deliveries, as the
// delivery worker would, and returns one delivery's id.
func fanOut(t *testing.T, st *store.Store, ws string) string {
	t.Helper()
	ctx := context.Background()
	ids, err := st.PendingEvents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := st.Tx(ctx, func(tx *store.Tx) error { _, err := tx.FanOut(ctx, id); return err }); err != nil {
			t.Fatal(err)
		}
	}
	ds, _, err := st.Deliveries(ctx, ws, store.DeliveryFilter{}, store.Page{})
	if err != nil || len(ds) == 0 {
		t.Fatalf("no delivery in %s: %v", ws, err)
	}
	return ds[0].ID
}
