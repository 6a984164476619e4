package api_test

import (
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

func TestChecksAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "Web", "slug": "web"})
		k := e.must(201, "POST", "/api/v1/checks", key, map[string]any{"component": "web", "name": "web https", "type": "http",
			"target": "https://www.example.com/", "nodes": []string{"*"}})
		if k["interval"] != "30s" || k["timeout"] != "10s" || k["failures"] != float64(3) || k["method"] != "GET" || k["expect_status"] != "200-399" {
			t.Fatalf("defaults: %v", k)
		}
		id := k["id"].(string)
		if got := e.must(200, "GET", "/api/v1/checks/web%20https", key, nil); got["id"] != id {
			t.Fatalf("by name: %v", got)
		}
		if got := e.must(200, "PATCH", "/api/v1/checks/"+id, key, map[string]any{"interval": "1m", "failures": 2}); got["interval"] != "1m0s" || got["failures"] != float64(2) {
			t.Fatalf("patched: %v", got)
		}
		bad := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"component": "web", "name": "x", "type": "smtp", "target": "mx.example.com:25", "nodes": []string{"*"}}, "type"},
			{map[string]any{"component": "web", "name": "x", "type": "http", "target": "ftp://example.com/", "nodes": []string{"*"}}, "target"},
			{map[string]any{"component": "web", "name": "x", "type": "tcp", "target": "example.com", "nodes": []string{"*"}}, "target"},
			{map[string]any{"component": "web", "name": "x", "type": "tcp", "target": "example.com:80", "interval": "1s", "nodes": []string{"*"}}, "interval"},
			{map[string]any{"component": "web", "name": "x", "type": "tcp", "target": "example.com:80", "interval": "10s", "timeout": "20s", "nodes": []string{"*"}}, "timeout"},
			{map[string]any{"component": "web", "name": "x", "type": "dns", "target": "example.com", "record": "SRV", "nodes": []string{"*"}}, "record"},
			{map[string]any{"component": "web", "name": "x", "type": "udp", "target": "game.example.com:27015", "payload": "hex:zz", "nodes": []string{"*"}}, "payload"},
			{map[string]any{"component": "nope", "name": "x", "type": "tcp", "target": "example.com:80", "nodes": []string{"*"}}, "component"},
			{map[string]any{"component": "web", "name": "x", "type": "http", "target": "https://www.example.com/", "expect_status": "2xx", "nodes": []string{"*"}}, "expect_status"},
			// The server refuses to probe internal addresses for a tenant
			// (SSRF); an agent on the tenant's node may.
			{map[string]any{"component": "web", "name": "x", "type": "http", "target": "http://127.0.0.1:8080/admin"}, "target"},
			{map[string]any{"component": "web", "name": "x", "type": "tcp", "target": "10.0.0.5:22"}, "target"},
			{map[string]any{"component": "web", "name": "x", "type": "dns", "target": "example.com", "server": "169.254.169.254:53"}, "server"},
		}
		for _, b := range bad {
			r := e.do("POST", "/api/v1/checks", key, b.body)
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+b.field+`"`) {
				t.Errorf("%v: %d %s, want 422 naming %s", b.body, r.status, r.body, b.field)
			}
		}
		e.must(201, "POST", "/api/v1/checks", key, map[string]any{"component": "web", "name": "lan", "type": "tcp", "target": "10.0.0.5:22", "nodes": []string{"fra-1"}})
		if r := e.do("POST", "/api/v1/checks", key, map[string]any{"component": "web", "name": "lan", "type": "tcp", "target": "10.0.0.6:22", "nodes": []string{"*"}}); r.status != 409 {
			t.Fatalf("duplicate name: %d %s", r.status, r.body)
		}
		if list := e.must(200, "GET", "/api/v1/checks", key, nil)["data"].([]any); len(list) != 2 {
			t.Fatalf("%d checks, want 2", len(list))
		}
		e.must(204, "DELETE", "/api/v1/checks/"+id, key, nil)
		if r := e.do("GET", "/api/v1/checks/"+id, key, nil); r.status != 404 {
			t.Fatalf("deleted check: %d", r.status)
		}
	})
}

func TestUptimeReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "=HYPERLINK(\"x\")", "slug": "web"})
		doc := e.must(200, "GET", "/api/v1/uptime", key, nil)
		rows := doc["components"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["uptime_percent"] != float64(100) || rows[0].(map[string]any)["days"] != float64(1) {
			t.Fatalf("this month: %v", doc)
		}
		r := e.do("GET", "/api/v1/uptime?format=csv", key, nil)
		lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
		if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 2 ||
			!strings.HasPrefix(lines[0], "component,name,month,measured,uptime_percent") || !strings.Contains(lines[1], `"'=HYPERLINK`) {
			t.Fatalf("csv: %d %q", r.status, r.body)
		}
		for _, q := range []string{"?month=2026-13", "?month=2999-01", "?format=xml"} {
			if r := e.do("GET", "/api/v1/uptime"+q, key, nil); r.status != 422 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	})
}

// The same declared check on two nodes is one check seen from both; a
// heartbeat that declares nothing new writes nothing.
func TestDeclaredChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "Web", "slug": "web"})
		tokens := map[string]string{}
		for _, n := range []string{"fra-1", "nyc-1"} {
			tokens[n] = e.must(201, "POST", "/api/v1/nodes", key, map[string]any{"name": n})["token"].(string)
		}
		declared := []any{map[string]any{"name": "web https", "component": "web", "type": "http", "target": "http://10.0.0.7/health"}}
		for _, n := range []string{"fra-1", "nyc-1", "nyc-1"} {
			hb := e.must(200, "POST", "/api/v1/agent/heartbeat", tokens[n], map[string]any{"declared": declared})
			if cs := hb["checks"].([]any); len(cs) != 1 {
				t.Fatalf("%s runs %v", n, cs)
			}
		}
		list := e.must(200, "GET", "/api/v1/checks", key, nil)["data"].([]any)
		if len(list) != 1 || len(list[0].(map[string]any)["nodes"].([]any)) != 2 {
			t.Fatalf("checks = %v, want one run from fra-1 and nyc-1", list)
		}
		audit := e.must(200, "GET", "/api/v1/audit-log", key, nil)["data"].([]any)
		declares := 0
		for _, a := range audit {
			if a.(map[string]any)["action"] == "check.declare" {
				declares++
			}
		}
		if declares != 2 {
			t.Fatalf("%d check.declare entries, want 2 (the repeat changes nothing)", declares)
		}
		bad := []any{map[string]any{"name": "x", "component": "web", "type": "tcp", "target": "nowhere"}}
		r := e.do("POST", "/api/v1/agent/heartbeat", tokens["fra-1"], map[string]any{"declared": bad})
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"declared[0].target"`) {
			t.Fatalf("bad declaration: %d %s", r.status, r.body)
		}
	})
}

func TestChannelSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		good := []map[string]any{
			{"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/xyz"},
			{"type": "discord", "url": "https://discord.com/api/webhooks/1/tok"},
			{"type": "teams", "url": "https://prod-01.westeurope.logic.azure.com/workflows/abc"},
			{"type": "mattermost", "url": "https://chat.example.com/hooks/abc"},
			{"type": "rocketchat", "url": "https://rocket.example.com/hooks/abc/def"},
			{"type": "telegram", "bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "chat_id": "-1001234567890"},
			{"type": "pagerduty", "routing_key": "R0UT1NGK3Y0123456789abcdefABCDEF"},
			{"type": "opsgenie", "api_key": "eb243592-faa2-4ba2-a551-1afdf565c889"},
		}
		for _, b := range good {
			sub := e.must(201, "POST", "/api/v1/subscribers", key, b)
			raw := e.do("GET", "/api/v1/subscribers/"+sub["id"].(string), key, nil).body
			for _, secret := range []string{"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "R0UT1NGK3Y0123456789abcdefABCDEF", "eb243592-faa2"} {
				if strings.Contains(string(raw), secret) {
					t.Errorf("%s subscriber shows its credential: %s", b["type"], raw)
				}
			}
		}
		if list := e.must(200, "GET", "/api/v1/subscribers?type=telegram", key, nil)["data"].([]any); len(list) != 1 || list[0].(map[string]any)["chat_id"] != "-1001234567890" {
			t.Fatalf("telegram subscribers = %v", list)
		}
		bad := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"type": "slack", "url": "http://127.0.0.1/hook"}, "url"},
			{map[string]any{"type": "discord", "url": "not a url"}, "url"},
			{map[string]any{"type": "telegram", "bot_token": "nope", "chat_id": "1"}, "bot_token"},
			{map[string]any{"type": "telegram", "bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "chat_id": "me"}, "chat_id"},
			{map[string]any{"type": "pagerduty", "routing_key": "short"}, "routing_key"},
			{map[string]any{"type": "pagerduty", "routing_key": "R0UT1NGK3Y0123456789abcdefABCDEF", "api_key": "x"}, "api_key"},
			{map[string]any{"type": "sms", "email": "x"}, "type"},
		}
		for _, b := range bad {
			r := e.do("POST", "/api/v1/subscribers", key, b.body)
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+b.field+`"`) {
				t.Errorf("%v: %d %s, want 422 naming %s", b.body, r.status, r.body, b.field)
			}
		}
	})
}

func TestIncidentTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "EU game 01", "slug": "eu-game-01"})
		tpl := e.must(201, "POST", "/api/v1/incident-templates", key, map[string]any{"name": "ddos", "title": "Network attack on our EU platform",
			"message": "Our DDoS protection is filtering an attack; some players may lag.", "impact": "major",
			"components": map[string]string{"eu-game-01": "partial_outage"}})
		inc := e.must(201, "POST", "/api/v1/incidents", key, map[string]any{"template": "ddos"})
		comps := inc["components"].([]any)
		if inc["title"] != "Network attack on our EU platform" || inc["impact"] != "major" || len(comps) != 1 ||
			comps[0].(map[string]any)["status"] != "partial_outage" || inc["updates"].([]any)[0].(map[string]any)["message"] != tpl["message"] {
			t.Fatalf("incident from the template: %v", inc)
		}
		// What the body gives wins over the template.
		inc = e.must(201, "POST", "/api/v1/incidents", key, map[string]any{"template": tpl["id"], "title": "Lag on EU servers"})
		if inc["title"] != "Lag on EU servers" || inc["impact"] != "major" {
			t.Fatalf("override: %v", inc)
		}
		bad := []struct {
			path  string
			body  map[string]any
			field string
		}{
			{"/api/v1/incidents", map[string]any{"template": "nope"}, "template"},
			{"/api/v1/incident-templates", map[string]any{"name": "x", "title": "t", "components": map[string]string{"nope": "major_outage"}}, "components.nope"},
			{"/api/v1/incident-templates", map[string]any{"name": "y", "title": "t", "impact": "apocalyptic"}, "impact"},
			{"/api/v1/incident-templates", map[string]any{"name": "z"}, "title"},
			{"/api/v1/incident-templates", map[string]any{"name": "w", "title": "t", "title_translations": map[string]string{"tlh": "x"}}, "title_translations"},
		}
		for _, b := range bad {
			r := e.do("POST", b.path, key, b.body)
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+b.field+`"`) {
				t.Errorf("%s %v: %d %s, want 422 naming %s", b.path, b.body, r.status, r.body, b.field)
			}
		}
		if r := e.do("POST", "/api/v1/incident-templates", key, map[string]any{"name": "ddos", "title": "again"}); r.status != 409 {
			t.Fatalf("duplicate name: %d", r.status)
		}
		e.must(204, "DELETE", "/api/v1/incident-templates/ddos", key, nil)
	})
}

func TestPostmortems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "Web", "slug": "web"})
		inc := e.must(201, "POST", "/api/v1/incidents", key, map[string]any{"title": "Checkout errors", "components": map[string]string{"web": "major_outage"},
			"message": "Investigating."})
		id := inc["id"].(string)
		draft := e.must(200, "GET", "/api/v1/incidents/"+id+"/postmortem/draft", key, nil)["markdown"].(string)
		if !strings.Contains(draft, "## Summary") || !strings.Contains(draft, "**Affected:** Web") || !strings.Contains(draft, "Investigating: Investigating.") {
			t.Fatalf("draft:\n%s", draft)
		}
		if r := e.do("PUT", "/api/v1/incidents/"+id+"/postmortem", key, map[string]any{"markdown": "x", "notify": true}); r.status != 422 {
			t.Fatalf("notify without publish: %d", r.status)
		}
		got := e.must(200, "PUT", "/api/v1/incidents/"+id+"/postmortem", key, map[string]any{"markdown": "## Root cause\n\nA bad deploy.", "publish": true, "notify": true})
		pm := got["postmortem"].(map[string]any)
		if pm["published_at"] == nil || len(got["updates"].([]any)) != 2 {
			t.Fatalf("published post-mortem: %v", got)
		}
		if r := e.do("PUT", "/api/v1/incidents/"+id+"/postmortem", key, map[string]any{"markdown": ""}); r.status != 422 {
			t.Fatalf("empty post-mortem: %d", r.status)
		}
	})
}
