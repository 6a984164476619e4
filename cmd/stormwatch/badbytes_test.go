package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadBytesOnBothDatabases sends NUL bytes and invalid UTF-8 in path
// ids, query parameters and form fields, signed in or not, to the real
// server on SQLite and on PostgreSQL: each answers 400 (never a 5xx),
// and the server logs no error.
func TestBadBytesOnBothDatabases(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.args(t)
			key, _, code := runCLI(t, nil, append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme"}, db...)...)
			key = strings.TrimSpace(key)
			if code != 0 {
				t.Fatal("workspace create failed")
			}
			s := startServe(t, db...)
			form := "application/x-www-form-urlencoded"
			for _, tc := range []struct {
				method, path, key, contentType, body string
			}{
				{"GET", "/api/v1/incidents/x%00", key, "", ""},
				{"GET", "/api/v1/incidents/x%ff", key, "", ""},
				{"GET", "/api/v1/components/%00", key, "", ""},
				{"GET", "/api/v1/incidents?cursor=a%00b", key, "", ""},
				{"GET", "/api/v1/attacks/atk%c3%28", key, "", ""},
				{"GET", "/api/v1/incidents/x%00", "", "", ""},
				{"POST", "/admin/login", "", form, "email=a%00b%40example.com&password=x"},
				{"POST", "/admin/login", "", form, "email=a%ffb%40example.com&password=x"},
				{"POST", "/admin/reset", "", form, "email=a%00b%40example.com"},
				{"GET", "/s/acme/assets/x%00.svg", "", "", ""},
				{"GET", "/s/acme/incidents/inc_%00", "", "", ""},
				{"GET", "/s/ac%00me/", "", "", ""},
				{"POST", "/s/acme/subscribe", "", form, "email=ops%40example.com&component=a%00"},
				{"GET", "/s/acme/subscriptions/confirm?s=sub_%00&t=x", "", "", ""},
				{"GET", "/s/acme/api/v2/summary.json?x=%ff", "", "", ""},
			} {
				req, _ := http.NewRequest(tc.method, s.url+tc.path, strings.NewReader(tc.body))
				if tc.key != "" {
					req.Header.Set("Authorization", "Bearer "+tc.key)
				}
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
				}
			}
			if code, _ := call(t, "GET", s.url+"/healthz", "", ""); code != 200 {
				t.Fatal("server unhealthy after the bad bytes")
			}
			if log := s.stderr.String(); strings.Contains(log, "level=ERROR") {
				t.Errorf("errors logged:\n%s", log)
			}
		})
	}
}
