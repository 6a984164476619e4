package api_test

import (
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

func TestBadInputChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ws, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "Edge", "slug": "edge"})
		inc := e.must(201, "POST", "/api/v1/incidents", key, map[string]any{"title": "I"})
		incPath := "/api/v1/incidents/" + inc["id"].(string)
		long := strings.Repeat("x", sw.MaxTitleLen+1)
		huge := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
		tests := []struct {
			name        string
			method      string
			path        string
			contentType string
			body        string
			status      int
			code        string
			field       string
		}{
			{"malformed json", "POST", "/api/v1/components", "application/json", `{"name":`, 400, "invalid_json", ""},
			{"broken json", "POST", "/api/v1/components", "application/json", `{"name" "x"}`, 400, "invalid_json", ""},
			{"two values", "POST", "/api/v1/components", "application/json", `{"name":"a"}{"name":"b"}`, 400, "invalid_json", ""},
			{"empty body", "POST", "/api/v1/components", "application/json", ``, 400, "invalid_json", ""},
			{"array not object", "POST", "/api/v1/components", "application/json", `[1,2]`, 422, "validation_failed", ""},
			{"unknown field", "POST", "/api/v1/components", "application/json", `{"name":"a","colour":"red"}`, 400, "unknown_field", "colour"},
			{"wrong type", "POST", "/api/v1/components", "application/json", `{"name":5}`, 422, "validation_failed", "name"},
			{"missing name", "POST", "/api/v1/components", "application/json", `{"slug":"abc"}`, 422, "validation_failed", "name"},
			{"bad slug", "POST", "/api/v1/components", "application/json", `{"name":"a","slug":"Not A Slug"}`, 422, "validation_failed", "slug"},
			{"duplicate slug", "POST", "/api/v1/components", "application/json", `{"name":"a","slug":"edge"}`, 409, "conflict", ""},
			{"bad component status", "POST", "/api/v1/components", "application/json", `{"name":"a","status":"on_fire"}`, 422, "validation_failed", "status"},
			{"control characters", "POST", "/api/v1/components", "application/json", `{"name":"a\u0000b"}`, 422, "validation_failed", "name"},
			{"over-long title", "POST", "/api/v1/incidents", "application/json", `{"title":"` + long + `"}`, 422, "validation_failed", "title"},
			{"bad impact", "POST", "/api/v1/incidents", "application/json", `{"title":"t","impact":"huge"}`, 422, "validation_failed", "impact"},
			{"bad severity", "POST", "/api/v1/incidents", "application/json", `{"title":"t","severity":"meh"}`, 422, "validation_failed", "severity"},
			{"unknown component", "POST", "/api/v1/incidents", "application/json", `{"title":"t","components":{"nope":"major_outage"}}`, 422, "validation_failed", "components[0]"},
			{"maintenance status on incident", "POST", "/api/v1/incidents", "application/json", `{"title":"t","components":{"edge":"under_maintenance"}}`, 422, "validation_failed", "components.edge"},
			{"bad time", "POST", "/api/v1/maintenances", "application/json", `{"title":"t","starts_at":"tomorrow","ends_at":"2030-01-01T00:00:00Z"}`, 422, "validation_failed", "starts_at"},
			{"ends before start", "POST", "/api/v1/maintenances", "application/json", `{"title":"t","starts_at":"2030-01-01T02:00:00Z","ends_at":"2030-01-01T01:00:00Z"}`, 422, "validation_failed", "ends_at"},
			{"update without message", "POST", incPath + "/updates", "application/json", `{"status":"monitoring"}`, 422, "validation_failed", "message"},
			{"bad status on patch", "PATCH", incPath, "application/json", `{"status":"fixed"}`, 422, "validation_failed", "status"},
			{"wrong content type", "POST", "/api/v1/components", "text/plain", `{"name":"a"}`, 415, "unsupported_media_type", ""},
			{"form content type", "POST", "/api/v1/components", "application/x-www-form-urlencoded", `name=a`, 415, "unsupported_media_type", ""},
			{"no content type", "POST", "/api/v1/components", "", `{"name":"a"}`, 415, "unsupported_media_type", ""},
			{"huge body", "POST", "/api/v1/components", "application/json", huge, 413, "body_too_large", ""},
			{"bad timezone", "PATCH", "/api/v1/workspace", "application/json", `{"timezone":"Mars/Olympus"}`, 422, "validation_failed", "timezone"},
			{"javascript link", "PATCH", "/api/v1/workspace", "application/json", `{"branding":{"logo_url":"javascript:alert(1)"}}`, 422, "validation_failed", "branding.logo_url"},
			{"bad colour", "PATCH", "/api/v1/workspace", "application/json", `{"branding":{"brand_color":"red;}"}}`, 422, "validation_failed", "branding.brand_color"},
			{"bad role", "POST", "/api/v1/api-keys", "application/json", `{"name":"k","role":"god"}`, 422, "validation_failed", "role"},
			{"webhook to NAT64 loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://[64:ff9b::7f00:1]/x"}`, 422, "validation_failed", "url"},
			{"webhook to 6to4 loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://[2002:7f00:1::]/x"}`, 422, "validation_failed", "url"},
			{"webhook to compatible loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://[::127.0.0.1]/x"}`, 422, "validation_failed", "url"},
			{"webhook to SIIT loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://[::ffff:0:7f00:1]/x"}`, 422, "validation_failed", "url"},
			{"webhook to decimal loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://2130706433/x"}`, 422, "validation_failed", "url"},
			{"webhook to hex loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://0x7f000001/x"}`, 422, "validation_failed", "url"},
			{"webhook to octal loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://0177.0.0.1/x"}`, 422, "validation_failed", "url"},
			{"webhook to short loopback", "POST", "/api/v1/subscribers", "application/json", `{"type":"webhook","url":"http://127.1/x"}`, 422, "validation_failed", "url"},
			{"rules without rules", "PUT", "/api/v1/rules", "application/json", `{}`, 422, "validation_failed", "rules"},
			{"rules null", "PUT", "/api/v1/rules", "application/json", `null`, 422, "validation_failed", "rules"},
			{"unknown route", "GET", "/api/v1/nothing", "", ``, 404, "not_found", ""},
			{"wrong method", "PUT", "/api/v1/components", "application/json", `{}`, 405, "method_not_allowed", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := revision(t, st, ws)
				auditBefore := e.must(200, "GET", "/api/v1/audit-log", key, nil)["data"].([]any)
				got := e.doRaw(tt.method, tt.path, key, tt.contentType, tt.body)
				if got.status != tt.status {
					t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.body)
				}
				if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("content type %q, want JSON", ct)
				}
				body := got.json(t)["error"].(map[string]any)
				if body["code"] != tt.code || (tt.field != "" && body["field"] != tt.field) || body["message"] == "" {
					t.Errorf("error = %v, want code %s field %q", body, tt.code, tt.field)
				}
				if after := revision(t, st, ws); after != before {
					t.Errorf("page revision moved %d -> %d", before, after)
				}
				auditAfter := e.must(200, "GET", "/api/v1/audit-log", key, nil)["data"].([]any)
				if len(auditAfter) != len(auditBefore) {
					t.Errorf("audit log grew from %d to %d entries", len(auditBefore), len(auditAfter))
				}
			})
		}
		comps := e.must(200, "GET", "/api/v1/components", key, nil)["data"].([]any)
		if len(comps) != 1 {
			t.Errorf("bad input left %d components, want the 1 created first", len(comps))
		}
	})
}

// TestPatchBrandingChangesWhatItNames: PATCH with one branding field
// leaves the others as they were.
func TestPatchBrandingChangesWhatItNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(200, "PATCH", "/api/v1/workspace", key, map[string]any{"branding": map[string]any{"page_title": "Acme Hosting Network Status",
			"logo_url": "https://acme.example/logo.png", "brand_color": "#8250df", "hide_badge": true,
			"footer_links": []map[string]string{{"label": "Support", "url": "https://acme.example/support"}}}})
		got := e.must(200, "PATCH", "/api/v1/workspace", key, map[string]any{"branding": map[string]any{"brand_color": "#cf222e"}})
		b := got["branding"].(map[string]any)
		links, _ := b["footer_links"].([]any)
		if b["brand_color"] != "#cf222e" || b["page_title"] != "Acme Hosting Network Status" || b["logo_url"] != "https://acme.example/logo.png" ||
			b["hide_badge"] != true || len(links) != 1 {
			t.Fatalf("after patching the colour: %v", b)
		}
	})
}

// TestAgentEventsAreChecked: targets are addresses or prefixes, and times
// stay within a sane window around the server's clock; a refused batch
// stores nothing.
func TestAgentEventsAreChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		n := e.must(201, "POST", "/api/v1/nodes", key, map[string]any{"name": "edge-1"})
		token := n["token"].(string)
		for _, tc := range []struct {
			name, field string
			set         func(ev map[string]any)
		}{
			{"not an ip", "events[0].target", func(ev map[string]any) { ev["target"] = "not an ip" }},
			{"year 2099", "events[0].at", func(ev map[string]any) { ev["at"] = "2099-01-01T00:00:00Z" }},
			{"year 9999", "events[0].started_at", func(ev map[string]any) { ev["started_at"] = "9999-12-31T23:59:59Z" }},
			{"year 1999", "events[0].at", func(ev map[string]any) { ev["at"] = "1999-01-01T00:00:00Z" }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ev := sampleEvent("atk_"+strings.ReplaceAll(tc.name, " ", "_"), 1)
				tc.set(ev)
				r := e.do("POST", "/api/v1/agent/events", token, map[string]any{"events": []any{ev}})
				if r.status != 422 {
					t.Fatalf("answered %d: %s", r.status, r.body)
				}
				if f := r.json(t)["error"].(map[string]any)["field"]; f != tc.field {
					t.Errorf("field %v, want %s", f, tc.field)
				}
			})
		}
		for _, target := range []string{"203.0.113.7", "2001:db8::7", "203.0.113.0/24"} {
			ev := sampleEvent("atk_ok_"+strings.NewReplacer(".", "_", ":", "_", "/", "_").Replace(target), 1)
			ev["target"] = target
			e.must(200, "POST", "/api/v1/agent/events", token, map[string]any{"events": []any{ev}})
		}
		if list := e.must(200, "GET", "/api/v1/attacks", key, nil)["data"].([]any); len(list) != 3 {
			t.Fatalf("%d attacks stored, want the 3 good ones", len(list))
		}
	})
}
