package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Error is an API error with the status and code it is answered with.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

var (
	errUnauthorized = apiError(http.StatusUnauthorized, "unauthorized",
		"send a live API key as \"Authorization: Bearer swk_…\"")
	errNodeUnauthorized = apiError(http.StatusUnauthorized, "unauthorized",
		"send the node's token as \"Authorization: Bearer swn_…\"")
	errForbidden = apiError(http.StatusForbidden, "forbidden", "this API key's role may not do that")
)

// writeError answers err in the error shape of CONTRACT.md. It is the one
// place where errors become HTTP statuses.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var apiErr *Error
	var verr *sw.ValidationError
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &verr):
		apiErr = &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: verr.Message, Field: verr.Field}
	case errors.Is(err, store.ErrNotFound):
		apiErr = apiError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrConflict):
		apiErr = apiError(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, r.Context().Err()):
		// The client went away; nobody reads the answer.
		return
	default:
		log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = apiError(http.StatusInternalServerError, "internal", "internal error; the server log has the details")
	}
	if apiErr.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stormwatch"`)
	}
	writeJSON(w, apiErr.Status, map[string]*Error{"error": apiErr})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"cannot encode response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // a failed write means the client left
}
