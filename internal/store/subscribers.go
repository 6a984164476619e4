package store

import (
	"context"
	"database/sql"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

const subscriberColumns = `id, workspace_id, type, email, url, min_impact, confirmed_at, disabled_at, created_at`

func scanSubscriber(row rowScanner) (*sw.Subscriber, error) {
	var s sw.Subscriber
	var confirmed, disabled sql.NullInt64
	var created int64
	if err := row.Scan(&s.ID, &s.WorkspaceID, &s.Type, &s.Email, &s.URL, &s.MinImpact, &confirmed, &disabled, &created); err != nil {
		return nil, err
	}
	s.ConfirmedAt, s.DisabledAt, s.CreatedAt = fromNullTS(confirmed), fromNullTS(disabled), fromTS(created)
	s.Components = []string{}
	return &s, nil
}

func (r *Reader) loadSubscriberComponents(ctx context.Context, ws string, subs []sw.Subscriber) error {
	return fillSlugs(ctx, r, ws, "subscriber_components", "subscriber_id", subs,
		func(s *sw.Subscriber) string { return s.ID }, func(s *sw.Subscriber, slug string) { s.Components = append(s.Components, slug) })
}

// Subscribers lists workspace ws's subscribers, oldest first.
func (r *Reader) Subscribers(ctx context.Context, ws string, p Page) ([]sw.Subscriber, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanSubscriber, `SELECT `+subscriberColumns+` FROM subscribers WHERE workspace_id = $1
		ORDER BY created_at, id LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list subscribers: %w", err)
	}
	return out, more, r.loadSubscriberComponents(ctx, ws, out)
}

// Subscriber returns workspace ws's subscriber id.
func (r *Reader) Subscriber(ctx context.Context, ws, id string) (*sw.Subscriber, error) {
	s, err := scanSubscriber(r.db.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "subscriber", id)
	}
	list := []sw.Subscriber{*s}
	if err := r.loadSubscriberComponents(ctx, ws, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// CreateSubscriber stores a subscriber (already validated by the caller:
// address or URL, secret) on the components named by refs (none: all).
func (tx *Tx) CreateSubscriber(ctx context.Context, s *sw.Subscriber, secret string, refs []string) error {
	if !s.MinImpact.Valid() {
		return sw.Invalid("min_impact", "must be one of none, minor, major, critical")
	}
	comps, err := tx.ResolveComponents(ctx, s.WorkspaceID, "components", refs)
	if err != nil {
		return err
	}
	s.ID = sw.NewID(sw.PrefixSubscriber)
	s.CreatedAt = tx.now
	_, err = tx.db.ExecContext(ctx, `INSERT INTO subscribers (id, workspace_id, type, email, url, secret, min_impact, confirmed_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.ID, s.WorkspaceID, s.Type, s.Email, s.URL, secret, string(s.MinImpact),
		nullTS(s.ConfirmedAt), ts(tx.now))
	if isUniqueViolation(err) {
		return fmt.Errorf("this %s subscriber exists already: %w", s.Type, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create subscriber: %w", err)
	}
	s.Components = []string{}
	for _, c := range comps {
		if _, err := tx.db.ExecContext(ctx, `INSERT INTO subscriber_components (subscriber_id, component_id) VALUES ($1, $2)`, s.ID, c.ID); err != nil {
			return fmt.Errorf("subscriber components: %w", err)
		}
		s.Components = append(s.Components, c.Slug)
	}
	return nil
}

// DeleteSubscriber removes a subscriber.
func (tx *Tx) DeleteSubscriber(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM subscribers WHERE workspace_id = $1 AND id = $2`, ws, id)
	return affectedOne(res, err, "subscriber", id)
}
