package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/subscription"
)

// subscriberWithSecret is a webhook subscriber as answered when made: the
// signing secret (Standard Webhooks, whsec_…) is shown this once.
type subscriberWithSecret struct {
	*sw.Subscriber
	Secret string `json:"secret,omitempty"`
}

// createSubscriber adds an email address (unconfirmed unless the caller
// vouches for it: the double opt-in mail confirms it) or a webhook URL
// (checked against SSRF now and at every delivery) for all components or
// the ones listed.
func (s *Server) createSubscriber(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in subscription.Input
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sub, secret, err := subscription.Build(r.Context(), s.guard, c.workspace, &in, time.Now())
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
	if f.Type != "" && !sw.ValidSubscriberType(f.Type) {
		return f, &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "type", Message: "must be one of " + strings.Join(sw.SubscriberTypes, ", ")}
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

// exportSubscribers answers every subscriber as CSV.
func (s *Server) exportSubscribers(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := subscriberFilter(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := subscription.WriteCSV(r.Context(), s.store, c.workspace, f, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// importSubscribers reads CSV in the export's columns. Every line is
// checked first; if any is wrong, nothing is imported and each wrong line
// is named. Subscribers that exist already are skipped. Email addresses
// get the double opt-in mail unless ?confirmed=true says the operator has
// their consent already.
func (s *Server) importSubscribers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the subscribers as Content-Type: text/csv")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		return apiError(http.StatusRequestEntityTooLarge, "too_large", "an import is at most 8 MiB; split the file")
	}
	confirmed := r.URL.Query().Get("confirmed") == "true"
	rows, bad, err := subscription.ParseCSV(r.Context(), s.guard, c.workspace, body, confirmed, time.Now())
	if errors.Is(err, subscription.ErrBadFile) {
		return apiError(http.StatusBadRequest, "invalid_csv", strings.TrimPrefix(err.Error(), subscription.ErrBadFile.Error()+": "))
	}
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": &Error{Code: "validation_failed",
			Message: fmt.Sprintf("%d of %d lines are wrong; nothing was imported", len(bad), len(bad)+len(rows))}, "lines": bad})
		return nil
	}
	created, skipped := 0, 0
	err = s.mutate(r, c, "subscriber.import", "subscriber", func(tx *store.Tx) (string, any, error) {
		var err error
		created, skipped, err = subscription.Store(r.Context(), tx, rows)
		return "", map[string]any{"created": created, "skipped": skipped, "confirmed": confirmed}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"created": created, "skipped": skipped})
	return nil
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
