package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

type subscriberInput struct {
	Type       string     `json:"type"`
	Email      string     `json:"email"`
	URL        string     `json:"url"`
	Secret     string     `json:"secret"`
	Components []string   `json:"components"`
	MinImpact  *sw.Impact `json:"min_impact"`
	Format     string     `json:"format"`
	// Confirmed skips the double opt-in mail for an address the operator
	// vouches for (moved from another status page).
	Confirmed bool `json:"confirmed"`
}

// subscriberWithSecret is a webhook subscriber as answered when made: the
// signing secret (Standard Webhooks, whsec_…) is shown this once.
type subscriberWithSecret struct {
	*sw.Subscriber
	Secret string `json:"secret,omitempty"`
}

// newSubscriber checks in and returns the subscriber it describes with its
// signing secret (made up when a webhook subscriber brings none).
func (s *Server) newSubscriber(ctx context.Context, ws string, in *subscriberInput) (*sw.Subscriber, string, error) {
	sub := &sw.Subscriber{WorkspaceID: ws, Type: in.Type, MinImpact: sw.ImpactNone}
	setIf(&sub.MinImpact, in.MinImpact)
	secret := ""
	switch in.Type {
	case sw.SubscriberEmail:
		addr, err := sw.CheckEmail("email", in.Email)
		if err != nil {
			return nil, "", err
		}
		sub.Email = addr
		if in.URL != "" || in.Secret != "" || in.Format != "" {
			return nil, "", sw.Invalid("url", "email subscribers take no url, secret or format")
		}
		if in.Confirmed {
			now := time.Now().UTC()
			sub.ConfirmedAt = &now
		}
	case sw.SubscriberWebhook:
		if err := s.guard.CheckURL(ctx, in.URL); err != nil {
			return nil, "", err
		}
		sub.URL = in.URL
		secret = in.Secret
		if secret == "" {
			secret = notify.NewWebhookSecret()
		} else if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 || len(secret) > 200 {
			return nil, "", sw.Invalid("secret", "must be a Standard Webhooks secret: whsec_ and at least 24 base64 characters")
		} else if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); err != nil {
			return nil, "", sw.Invalid("secret", "must be whsec_ followed by standard base64")
		}
		switch in.Format {
		case "", sw.FormatStormwatch, sw.FormatStatuspage:
			sub.Format = in.Format
		default:
			return nil, "", sw.Invalid("format", "must be stormwatch (the default) or statuspage")
		}
		if in.Email != "" {
			return nil, "", sw.Invalid("email", "webhook subscribers take no email")
		}
		// A webhook owner proves nothing by a click; the URL is theirs.
		now := time.Now().UTC()
		sub.ConfirmedAt = &now
	default:
		return nil, "", sw.Invalid("type", "must be email or webhook")
	}
	if in.Components == nil {
		in.Components = []string{}
	}
	return sub, secret, nil
}

// createSubscriber adds an email address (unconfirmed unless the caller
// vouches for it: the double opt-in mail confirms it) or a webhook URL
// (checked against SSRF now and at every delivery) for all components or
// the ones listed.
func (s *Server) createSubscriber(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in subscriberInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sub, secret, err := s.newSubscriber(r.Context(), c.workspace, &in)
	if err != nil {
		return err
	}
	err = s.mutate(r, c, "subscriber.create", "subscriber", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateSubscriber(r.Context(), sub, secret, in.Components)
		return sub.ID, map[string]any{"type": sub.Type, "email": sub.Email, "url": sub.URL, "components": sub.Components}, err
	})
	if err != nil {
		return err
	}
	out := subscriberWithSecret{Subscriber: sub}
	if sub.Type == sw.SubscriberWebhook && in.Secret == "" {
		out.Secret = secret
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func subscriberFilter(r *http.Request) (store.SubscriberFilter, error) {
	q := r.URL.Query()
	f := store.SubscriberFilter{Type: q.Get("type"), State: q.Get("state"), Search: q.Get("q")}
	switch f.Type {
	case "", sw.SubscriberEmail, sw.SubscriberWebhook:
	default:
		return f, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "type", Message: "must be email or webhook"}
	}
	switch f.State {
	case "", "pending", "active", "disabled":
	default:
		return f, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "state", Message: "must be pending, active or disabled"}
	}
	if len(f.Search) > 200 {
		return f, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "q", Message: "must be at most 200 characters"}
	}
	return f, nil
}

// listSubscribers lists subscribers, filtered by ?type=, ?state= and ?q=.
func (s *Server) listSubscribers(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := subscriberFilter(r)
	if err != nil {
		return err
	}
	return listOf(func(ctx context.Context, ws string, p store.Page) ([]sw.Subscriber, bool, error) {
		return s.store.Subscribers(ctx, ws, f, p)
	})(w, r, c)
}

type subscriberPatch struct {
	Components *[]string  `json:"components"`
	MinImpact  *sw.Impact `json:"min_impact"`
	Format     *string    `json:"format"`
	Enabled    *bool      `json:"enabled"`
}

// patchSubscriber changes a subscriber's components, minimum impact,
// webhook format, or turns it off and on again (after a receiver that
// failed for a day is fixed).
func (s *Server) patchSubscriber(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in subscriberPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var sub *sw.Subscriber
	err := s.mutate(r, c, "subscriber.update", "subscriber", func(tx *store.Tx) (string, any, error) {
		id := r.PathValue("id")
		var err error
		sub, err = tx.EditSubscriber(r.Context(), c.workspace, id, store.SubscriberEdit{
			Components: in.Components, MinImpact: in.MinImpact, Format: in.Format, Enabled: in.Enabled})
		return id, in, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

// csvHeader is the column order of subscriber export and import.
var csvHeader = []string{"type", "email", "url", "components", "min_impact", "format", "state", "created_at"}

// exportSubscribers answers every subscriber as CSV (components separated
// by spaces; secrets are never exported).
func (s *Server) exportSubscribers(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := subscriberFilter(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(csvHeader) // a bytes.Buffer does not fail
	for p := (store.Page{Limit: 200}); ; p.Offset += p.Limit {
		subs, more, err := s.store.Subscribers(r.Context(), c.workspace, f, p)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			state := "active"
			switch {
			case sub.DisabledAt != nil:
				state = "disabled"
			case sub.ConfirmedAt == nil:
				state = "pending"
			}
			_ = cw.Write([]string{sub.Type, csvSafe(sub.Email), csvSafe(sub.URL), strings.Join(sub.Components, " "), string(sub.MinImpact),
				sub.Format, state, sub.CreatedAt.Format(time.RFC3339)})
		}
		if !more {
			break
		}
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// importLineError names a line of an import that was refused.
type importLineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// importSubscribers reads CSV in the export's columns (only type and email
// or url are required). Every line is checked first; if any is wrong,
// nothing is imported and each wrong line is named. Subscribers that exist
// already are skipped. Email addresses get the double opt-in mail unless
// ?confirmed=true says the operator has their consent already.
func (s *Server) importSubscribers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the subscribers as Content-Type: text/csv")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		return apiError(http.StatusRequestEntityTooLarge, "too_large", "an import is at most 8 MiB; split the file")
	}
	confirmed := r.URL.Query().Get("confirmed") == "true"
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_csv", err.Error())
	}
	if len(records) == 0 {
		return apiError(http.StatusBadRequest, "invalid_csv", "the file is empty; the first line names the columns: "+strings.Join(csvHeader, ","))
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[strings.TrimSpace(strings.ToLower(name))] = i
	}
	if _, ok := col["type"]; !ok {
		return apiError(http.StatusBadRequest, "invalid_csv", "the first line must name the columns, type among them: "+strings.Join(csvHeader, ","))
	}
	cell := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimPrefix(strings.TrimSpace(rec[i]), "'")
		}
		return ""
	}
	type row struct {
		sub    *sw.Subscriber
		secret string
		comps  []string
		line   int
	}
	var rows []row
	var bad []importLineError
	for n, rec := range records[1:] {
		line := n + 2
		in := subscriberInput{Type: cell(rec, "type"), Email: cell(rec, "email"), URL: cell(rec, "url"),
			Format: cell(rec, "format"), Components: strings.Fields(cell(rec, "components")), Confirmed: confirmed}
		if v := cell(rec, "min_impact"); v != "" {
			imp := sw.Impact(v)
			in.MinImpact = &imp
		}
		sub, secret, err := s.newSubscriber(r.Context(), c.workspace, &in)
		if err != nil {
			bad = append(bad, lineError(line, err))
			continue
		}
		rows = append(rows, row{sub, secret, in.Components, line})
	}
	if len(bad) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": &Error{Code: "validation_failed",
			Message: fmt.Sprintf("%d of %d lines are wrong; nothing was imported", len(bad), len(records)-1)}, "lines": bad})
		return nil
	}
	created, skipped := 0, 0
	err = s.mutate(r, c, "subscriber.import", "subscriber", func(tx *store.Tx) (string, any, error) {
		for _, rw := range rows {
			err := tx.CreateSubscriber(r.Context(), rw.sub, rw.secret, rw.comps)
			switch {
			case errors.Is(err, store.ErrConflict):
				skipped++
			case err != nil:
				return "", nil, fmt.Errorf("line %d: %w", rw.line, err)
			default:
				created++
			}
		}
		return "", map[string]any{"created": created, "skipped": skipped, "confirmed": confirmed}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"created": created, "skipped": skipped})
	return nil
}

func lineError(line int, err error) importLineError {
	var verr *sw.ValidationError
	if errors.As(err, &verr) {
		return importLineError{Line: line, Field: verr.Field, Message: verr.Message}
	}
	return importLineError{Line: line, Message: err.Error()}
}

func deliveryFilter(r *http.Request) store.DeliveryFilter {
	q := r.URL.Query()
	return store.DeliveryFilter{SubscriberID: q.Get("subscriber"), EventID: q.Get("event"), State: q.Get("state")}
}

// listDeliveries is the delivery log: what went to whom, newest first,
// filtered by ?subscriber=, ?event= and ?state=.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	f := deliveryFilter(r)
	switch f.State {
	case "", sw.DeliveryPending, sw.DeliveryDelivered, sw.DeliveryFailed:
	default:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "state", Message: "must be pending, delivered or failed"}
	}
	return listOf(func(ctx context.Context, ws string, p store.Page) ([]sw.Delivery, bool, error) {
		return s.store.Deliveries(ctx, ws, f, p)
	})(w, r, c)
}

// getDelivery answers one delivery with every attempt.
func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, c *caller) error {
	d, attempts, err := s.store.Delivery(r.Context(), c.workspace, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*sw.Delivery
		AttemptLog []sw.DeliveryAttempt `json:"attempt_log"`
	}{d, attempts})
	return nil
}
