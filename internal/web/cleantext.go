package web

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxCheckedForm is the largest URL-encoded form body checked (and held
// in memory) here; handlers refuse larger ones themselves.
const maxCheckedForm = 1 << 20

// cleanText refuses, before any handler (and so before any database),
// requests whose path, query or URL-encoded form carries a NUL byte or
// invalid UTF-8: PostgreSQL cannot store either in text and fails the
// query, which would answer 500 and log an error for what is bad input.
// Both databases now answer the same clear 400.
func cleanText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		where := ""
		switch {
		case !clean(r.URL.Path):
			where = "path"
		case !cleanValues(r.URL.RawQuery):
			where = "query"
		case r.Body != nil && r.Method != http.MethodGet && isForm(r.Header.Get("Content-Type")):
			body, err := io.ReadAll(io.LimitReader(r.Body, maxCheckedForm+1))
			if err != nil {
				http.Error(w, "could not read the request body", http.StatusBadRequest)
				return
			}
			if len(body) <= maxCheckedForm && !cleanValues(string(body)) {
				where = "form"
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		}
		if where == "" {
			next.ServeHTTP(w, r)
			return
		}
		msg := "the request's " + where + " contains a NUL byte or invalid UTF-8"
		w.Header().Set("Cache-Control", "no-store")
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.URL.Path, "/api/v2/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":"invalid_parameter","message":"`+msg+`","field":"`+where+`"}}`+"\n")
			return
		}
		http.Error(w, msg, http.StatusBadRequest)
	})
}

func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// cleanValues checks every key and value of a URL-encoded list; an
// undecodable one is left to the handler, which refuses it its own way.
func cleanValues(raw string) bool {
	if raw == "" {
		return true
	}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		for _, s := range []string{k, v} {
			d, err := url.QueryUnescape(s)
			if err == nil && !clean(d) {
				return false
			}
		}
	}
	return true
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
