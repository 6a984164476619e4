package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

func loadDoc(t *testing.T) map[string]any {
	t.Helper()
	raw, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIDescribesEveryRoute fails when a route exists that the
// document does not describe, or the document describes a route that does
// not exist.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	doc := loadDoc(t)
	paths := doc["paths"].(map[string]any)
	routes := map[string]bool{}
	for _, rt := range e.api.Routes() {
		routes[rt] = true
		method, pattern, _ := strings.Cut(rt, " ")
		item, ok := paths[pattern].(map[string]any)
		if !ok {
			t.Errorf("route %s: path %s missing from openapi.yaml", rt, pattern)
			continue
		}
		if _, ok := item[strings.ToLower(method)]; !ok {
			t.Errorf("route %s: method missing from openapi.yaml", rt)
		}
	}
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			if rt := strings.ToUpper(method) + " " + path; !routes[rt] {
				t.Errorf("openapi.yaml describes %s, which the server does not serve", rt)
			}
		}
	}
}

// TestOpenAPIIsWellFormed checks what tools trip over: the version, that
// every $ref resolves, that every operation answers something and declares
// its path parameters.
func TestOpenAPIIsWellFormed(t *testing.T) {
	doc := loadDoc(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch n := v.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok {
				if _, ok := follow(doc, ref); !ok {
					t.Errorf("%s: $ref %s does not resolve", path, ref)
				}
			}
			for k, child := range n {
				walk(path+"/"+k, child)
			}
		case []any:
			for _, child := range n {
				walk(path+"[]", child)
			}
		}
	}
	walk("#", doc)
	for path, item := range doc["paths"].(map[string]any) {
		pi := item.(map[string]any)
		for method, op := range pi {
			if method == "parameters" {
				continue
			}
			o := op.(map[string]any)
			if len(o["responses"].(map[string]any)) == 0 || o["summary"] == "" {
				t.Errorf("%s %s: needs a summary and responses", method, path)
			}
			declared := countParams(doc, pi["parameters"]) + countParams(doc, o["parameters"])
			if want := strings.Count(path, "{"); declared < want {
				t.Errorf("%s %s: %d path parameters declared, want %d", method, path, declared, want)
			}
		}
	}
}

// follow returns what a local $ref points at.
func follow(doc map[string]any, ref string) (map[string]any, bool) {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

func countParams(doc map[string]any, v any) int {
	n := 0
	list, _ := v.([]any)
	for _, p := range list {
		pm := p.(map[string]any)
		if ref, ok := pm["$ref"].(string); ok {
			pm, _ = follow(doc, ref)
		}
		if pm["in"] == "path" {
			n++
		}
	}
	return n
}
