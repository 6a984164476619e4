package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/stormwatch/stormwatch/internal/store"
)

// MaxBodyBytes bounds every request body of the API.
const MaxBodyBytes = 1 << 20

// decode reads the JSON body of r into v, strictly: the content type must be
// JSON, the body at most MaxBodyBytes, every field known, and nothing may
// follow the value.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the body as JSON with \"Content-Type: application/json\"")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiError(http.StatusBadRequest, "invalid_json", "the body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return apiError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes))
	case errors.As(err, &syntax):
		return apiError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(http.StatusBadRequest, "invalid_json", "the body is empty or cut short")
	case errors.As(err, &typeErr):
		e := &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Field: typeErr.Field,
			Message: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Code: "unknown_field", Field: field, Message: fmt.Sprintf("unknown field %q", field)}
	}
	return apiError(http.StatusBadRequest, "invalid_json", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (store.Page, error) {
	p := store.Page{Limit: 50}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return p, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "limit", Message: "must be a whole number from 1 to 200"}
		}
		p.Limit = n
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "o:") || n < 0 {
			return p, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "cursor", Message: "is not a cursor this API returned"}
		}
		p.Offset = n
	}
	return p, nil
}

// list is the shape of every listing: the items and, when more follow, the
// cursor that fetches them.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, p store.Page, more bool) list[T] {
	if items == nil {
		items = []T{}
	}
	l := list[T]{Data: items}
	if more {
		c := base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(p.Offset+len(items))))
		l.NextCursor = &c
	}
	return l
}
