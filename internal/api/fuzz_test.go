package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// fuzzRoutes are the admin API's writes; the fuzzer picks one by index.
var fuzzRoutes = []struct{ method, path, seed string }{
	{"POST", "/api/v1/components", `{"name":"US-East game 01","slug":"us-east-game-01","description":"x"}`},
	{"POST", "/api/v1/groups", `{"name":"Europe","position":1}`},
	{"POST", "/api/v1/nodes", `{"name":"edge-1","components":["us-east-game-01"]}`},
	{"POST", "/api/v1/incidents", `{"title":"DDoS","status":"investigating","impact":"major","message":"m","components":{"us-east-game-01":"partial_outage"}}`},
	{"POST", "/api/v1/maintenances", `{"title":"Upgrade","starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-01-01T01:00:00Z","components":["us-east-game-01"]}`},
	{"POST", "/api/v1/subscribers", `{"type":"email","email":"ops@example.com","components":["us-east-game-01"]}`},
	{"POST", "/api/v1/api-keys", `{"name":"deploy","role":"editor"}`},
	{"PUT", "/api/v1/rules", `{"rules":"severity >= high -> publish immediately"}`},
	{"POST", "/api/v1/rules/check", `{"rules":"severity >= high -> publish immediately","sample":{"severity":"high","attack":"udp_flood","duration":"2m"}}`},
	{"PATCH", "/api/v1/workspace", `{"name":"Acme","timezone":"Europe/Berlin","branding":{"brand_color":"#ff6600","footer_links":[{"label":"Home","url":"https://example.com"}]}}`},
	{"POST", "/api/v1/domains", `{"hostname":"status.example.com"}`},
}

// FuzzAdminAPI sends arbitrary JSON bodies to the admin API's writes on a
// real store: whatever arrives, the answer is a 2xx or a 4xx in the API's
// error shape, never a 5xx or a crash.
func FuzzAdminAPI(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
	}
	f.Add(uint8(3), []byte(`{"title":"\u202e<script>alert(1)</script>","components":{"x":"nope"}}`))
	f.Add(uint8(0), []byte(`{"name":1e400}`))
	st := storetest.Open(f, store.SQLite)
	var token string
	err := st.Tx(context.Background(), func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme"}
		if err := tx.CreateWorkspace(context.Background(), w); err != nil {
			return err
		}
		_, tok, err := tx.CreateAPIKey(context.Background(), w.ID, "fuzz", sw.RoleOwner)
		token = tok
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	h := api.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), api.WithWebhookGuard(&notify.Guard{Resolver: noDNS{}}))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q answered %d: %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d without the error shape: %s", rec.Code, rec.Body)
			}
		}
		if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}
