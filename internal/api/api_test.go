package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// env is an API server on a real store with one workspace and its key.
type env struct {
	t     *testing.T
	store *store.Store
	srv   *httptest.Server
	api   *api.Server
}

// noDNS answers every lookup itself, so that tests send no DNS query off
// this machine; webhook hosts "resolve" to a public documentation-free
// address.
type noDNS struct{}

func (noDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "internal.example.com" {
		return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := api.New(st, log, api.WithWebhookGuard(&notify.Guard{Resolver: noDNS{}}), api.WithMonitor(monitor.New(nil, log)))
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &env{t: t, store: st, srv: srv, api: a}
}

// workspace creates a workspace and returns its id and a key of role.
func (e *env) workspace(slug string, role sw.Role) (string, string) {
	e.t.Helper()
	var id, token string
	err := e.store.Tx(context.Background(), func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: slug, Name: slug}
		if err := tx.CreateWorkspace(context.Background(), w); err != nil {
			return err
		}
		_, tok, err := tx.CreateAPIKey(context.Background(), w.ID, "test", role)
		id, token = w.ID, tok
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, token
}

// key adds a key of role to workspace ws.
func (e *env) key(ws string, role sw.Role) (string, string) {
	e.t.Helper()
	var k *sw.APIKey
	var token string
	err := e.store.Tx(context.Background(), func(tx *store.Tx) error {
		var err error
		k, token, err = tx.CreateAPIKey(context.Background(), ws, string(role), role)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return k.ID, token
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	return e["code"].(string)
}

func (e *env) do(method, path, key string, body any) response {
	e.t.Helper()
	var raw string
	switch b := body.(type) {
	case nil:
		return e.doRaw(method, path, key, "", "")
	case string:
		raw = b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		raw = string(enc)
	}
	return e.doRaw(method, path, key, "application/json", raw)
}

// doRaw sends body with contentType ("" sends none).
func (e *env) doRaw(method, path, key, contentType, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// must does a request and fails the test unless it answers want.
func (e *env) must(want int, method, path, key string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, path, key, body)
	if r.status != want {
		e.t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	if want == http.StatusNoContent {
		return nil
	}
	return r.json(e.t)
}

func TestContractRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		comp := e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "US-East game 01", "slug": "us-east-game-01"})
		if comp["slug"] != "us-east-game-01" || !strings.HasPrefix(comp["id"].(string), "cmp_") || comp["status"] != "operational" {
			t.Fatalf("component = %v", comp)
		}
		node := e.must(201, "POST", "/api/v1/nodes", key, map[string]any{"name": "edge-1", "components": []string{"us-east-game-01"}})
		if !strings.HasPrefix(node["id"].(string), "node_") || !strings.HasPrefix(node["token"].(string), "swn_") {
			t.Fatalf("node = %v", node)
		}
		if got := e.must(200, "GET", "/api/v1/nodes/"+node["id"].(string), key, nil); got["token"] != nil {
			t.Fatalf("node token shown again: %v", got)
		}
		inc := e.must(201, "POST", "/api/v1/incidents", key, map[string]any{
			"title": "DDoS attack detected on US-East cluster", "status": "investigating", "impact": "major",
			"message": "We are mitigating a UDP flood.", "components": map[string]string{"us-east-game-01": "partial_outage"}})
		id := inc["id"].(string)
		if !strings.HasPrefix(id, "inc_") || inc["impact"] != "major" || inc["source"] != "manual" {
			t.Fatalf("incident = %v", inc)
		}
		if got := e.must(200, "GET", "/api/v1/components/us-east-game-01", key, nil); got["status"] != "partial_outage" {
			t.Fatalf("component status after incident = %v", got["status"])
		}
		e.must(200, "POST", "/api/v1/incidents/"+id+"/updates", key, map[string]any{"status": "monitoring", "message": "Mitigated."})
		res := e.must(200, "POST", "/api/v1/incidents/"+id+"/resolve", key, nil)
		if res["status"] != "resolved" || res["resolved_at"] == nil || len(res["updates"].([]any)) != 3 {
			t.Fatalf("resolved incident = %v", res)
		}
		if got := e.must(200, "GET", "/api/v1/components/us-east-game-01", key, nil); got["status"] != "operational" {
			t.Fatalf("component status after resolve = %v", got["status"])
		}
		list := e.must(200, "GET", "/api/v1/incidents?status=resolved", key, nil)
		if len(list["data"].([]any)) != 1 || list["next_cursor"] != nil {
			t.Fatalf("resolved incidents = %v", list)
		}
		audit := e.must(200, "GET", "/api/v1/audit-log", key, nil)
		var actions []string
		for _, a := range audit["data"].([]any) {
			actions = append(actions, a.(map[string]any)["action"].(string))
		}
		want := "incident.resolve incident.post_update incident.create node.create component.create"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit actions = %v, want %s", actions, want)
		}
	})
}

func TestPaginationCursor(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st)
	_, key := e.workspace("acme", sw.RoleOwner)
	for i := range 5 {
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "c" + string(rune('a'+i))})
	}
	seen := map[string]bool{}
	path := "/api/v1/components?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("cursor never ends")
		}
		page := e.must(200, "GET", path, key, nil)
		for _, c := range page["data"].([]any) {
			seen[c.(map[string]any)["slug"].(string)] = true
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		path = "/api/v1/components?limit=2&cursor=" + next
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d components, want 5", len(seen))
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "cursor=zzz"} {
		if r := e.do("GET", "/api/v1/components?"+q, key, nil); r.status != 400 || r.errorCode(t) != "invalid_parameter" {
			t.Errorf("?%s = %d %s, want 400 invalid_parameter", q, r.status, r.body)
		}
	}
}

func TestRulesCheck(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	_, key := e.workspace("acme", sw.RoleViewer)
	got := e.must(200, "POST", "/api/v1/rules/check", key, map[string]any{"rules": "severity >= high -> publish immediately\nseverty == low -> draft"})
	errs := got["errors"].([]any)
	if got["valid"] != false || len(errs) != 1 || errs[0].(map[string]any)["line"] != 2.0 || errs[0].(map[string]any)["col"] != 1.0 {
		t.Fatalf("invalid rules: %v", got)
	}
	got = e.must(200, "POST", "/api/v1/rules/check", key, map[string]any{
		"rules":  "severity >= high -> publish immediately\nseverity == medium -> publish after 60s if unresolved\nduration > 5m -> escalate to major_outage",
		"sample": map[string]any{"severity": "medium", "attack": "syn_flood", "duration": "6m", "component": "game-01"}})
	d := got["decision"].(map[string]any)
	if got["valid"] != true || d["publish"] != "publish after" || d["after_seconds"] != 60.0 || d["component_status"] != "major_outage" ||
		d["rule"].(map[string]any)["line"] != 2.0 || len(d["escalations"].([]any)) != 1 {
		t.Fatalf("decision: %v", got)
	}
	if r := e.do("POST", "/api/v1/rules/check", key, map[string]any{"rules": "", "sample": map[string]any{"severity": "apocalyptic"}}); r.status != 422 {
		t.Fatalf("bad sample: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/rules/check", key, map[string]any{"rules": "", "replay_days": 365}); r.status != 422 {
		t.Fatalf("replay of a year: %d", r.status)
	}
}

func TestRuleSet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ws, key := e.workspace("acme", sw.RoleOwner)
		_, editor := e.key(ws, sw.RoleEditor)
		got := e.must(200, "GET", "/api/v1/rules", key, nil)
		if got["default"] != true || !strings.Contains(got["rules"].(string), "severity >= high") {
			t.Fatalf("default rules: %v", got)
		}
		r := e.do("PUT", "/api/v1/rules", key, map[string]any{"rules": "severity >= high -> publish immediately\nseverity => low -> draft"})
		if r.status != 422 || !strings.Contains(string(r.body), "2:10: unknown operator") {
			t.Fatalf("invalid rules: %d %s", r.status, r.body)
		}
		if got := e.must(200, "GET", "/api/v1/rules", key, nil); got["default"] != true {
			t.Fatal("refused rules were stored")
		}
		if r := e.do("PUT", "/api/v1/rules", editor, map[string]any{"rules": "severity >= high -> draft"}); r.status != 403 {
			t.Fatalf("editor changed rules: %d", r.status)
		}
		text := "component \"backup-*\": severity < high -> do not publish\nseverity >= medium -> publish immediately\n"
		got = e.must(200, "PUT", "/api/v1/rules", key, map[string]any{"rules": text})
		if got["rules"] != text || got["default"] != false || got["updated_at"] == nil {
			t.Fatalf("stored rules: %v", got)
		}
	})
}

func TestSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, key := e.workspace("acme", sw.RoleOwner)
		e.must(201, "POST", "/api/v1/components", key, map[string]any{"name": "US-East game 01", "slug": "us-east-game-01"})
		hook := e.must(201, "POST", "/api/v1/subscribers", key, map[string]any{"type": "webhook", "url": "https://hooks.example.com/x",
			"components": []string{"us-east-game-01"}})
		if !strings.HasPrefix(hook["secret"].(string), "whsec_") || hook["components"].([]any)[0] != "us-east-game-01" {
			t.Fatalf("webhook subscriber: %v", hook)
		}
		if got := e.must(200, "GET", "/api/v1/subscribers/"+hook["id"].(string), key, nil); got["secret"] != nil {
			t.Fatal("secret shown again")
		}
		mail := e.must(201, "POST", "/api/v1/subscribers", key, map[string]any{"type": "email", "email": "Ops@Example.com"})
		if mail["email"] != "ops@example.com" || mail["confirmed_at"] != nil {
			t.Fatalf("email subscriber: %v", mail)
		}
		for _, bad := range []map[string]any{
			{"type": "webhook", "url": "http://127.0.0.1:8080/x"},
			{"type": "webhook", "url": "http://169.254.169.254/latest"},
			{"type": "webhook", "url": "https://internal.example.com/x"},
			{"type": "email", "email": "not an address"},
			{"type": "pigeon"},
		} {
			if r := e.do("POST", "/api/v1/subscribers", key, bad); r.status != 422 {
				t.Errorf("%v: %d %s", bad, r.status, r.body)
			}
		}
		if r := e.do("POST", "/api/v1/subscribers", key, map[string]any{"type": "email", "email": "ops@example.com"}); r.status != 409 {
			t.Errorf("duplicate: %d", r.status)
		}
		e.must(204, "DELETE", "/api/v1/subscribers/"+mail["id"].(string), key, nil)
		if list := e.must(200, "GET", "/api/v1/subscribers", key, nil)["data"].([]any); len(list) != 1 {
			t.Fatalf("%d subscribers after delete", len(list))
		}
	})
}
