package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

const subscriberColumns = `id, workspace_id, type, email, url, min_impact, format, page_root, confirmed_at, disabled_at, disabled_reason, created_at, operator, language`

func scanSubscriber(row rowScanner) (*sw.Subscriber, error) {
	var s sw.Subscriber
	var confirmed, disabled sql.NullInt64
	var created int64
	if err := row.Scan(&s.ID, &s.WorkspaceID, &s.Type, &s.Email, &s.URL, &s.MinImpact, &s.Format, &s.PageRoot, &confirmed, &disabled, &s.DisabledReason, &created, &s.Operator, &s.Language); err != nil {
		return nil, err
	}
	s.ConfirmedAt, s.DisabledAt, s.CreatedAt = fromNullTS(confirmed), fromNullTS(disabled), fromTS(created)
	if s.Type == sw.SubscriberEmail {
		s.Format = ""
	}
	s.Fill()
	s.Components = []string{}
	return &s, nil
}

func (r *Reader) loadSubscriberComponents(ctx context.Context, ws string, subs []sw.Subscriber) error {
	return fillSlugs(ctx, r, ws, "subscriber_components", "subscriber_id", subs,
		func(s *sw.Subscriber) string { return s.ID }, func(s *sw.Subscriber, slug string) { s.Components = append(s.Components, slug) })
}

// SubscriberFilter narrows a listing of subscribers; empty fields match all.
type SubscriberFilter struct {
	Type string
	// State is pending (email not confirmed), active or disabled.
	State string
	// Search matches part of the address or URL.
	Search string
}

// Subscribers lists workspace ws's subscribers, oldest first.
func (r *Reader) Subscribers(ctx context.Context, ws string, f SubscriberFilter, p Page) ([]sw.Subscriber, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanSubscriber, `SELECT `+subscriberColumns+` FROM subscribers WHERE workspace_id = $1
		AND ($2 = '' OR type = $2)
		AND ($3 = '' OR ($3 = 'pending' AND confirmed_at IS NULL AND disabled_at IS NULL)
			OR ($3 = 'active' AND confirmed_at IS NOT NULL AND disabled_at IS NULL) OR ($3 = 'disabled' AND disabled_at IS NOT NULL))
		AND ($4 = '' OR email LIKE $4 OR url LIKE $4)
		ORDER BY created_at, id LIMIT $5 OFFSET $6`, ws, f.Type, f.State, likePattern(f.Search), p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list subscribers: %w", err)
	}
	return out, more, r.loadSubscriberComponents(ctx, ws, out)
}

// likePattern makes a LIKE pattern matching s anywhere, with LIKE's own
// wildcards in s taken literally (” stays ”: no filter).
func likePattern(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("%", "", "_", "").Replace(s)
	return "%" + strings.ToLower(s) + "%"
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
// address or URL, secret) on the components named by refs (none: all). An
// email subscriber that is not confirmed yet is sent the double opt-in
// mail, through the outbox like every other message.
func (tx *Tx) CreateSubscriber(ctx context.Context, s *sw.Subscriber, secret string, refs []string) error {
	if !s.MinImpact.Valid() {
		return sw.Invalid("min_impact", "must be one of none, minor, major, critical")
	}
	if s.Format == "" && s.Type == sw.SubscriberWebhook {
		s.Format = sw.FormatStormwatch
	}
	comps, err := tx.ResolveComponents(ctx, s.WorkspaceID, "components", refs)
	if err != nil {
		return err
	}
	s.ID = sw.NewID(sw.PrefixSubscriber)
	s.CreatedAt = tx.now
	if s.Operator && (s.Type == sw.SubscriberEmail || s.Type == sw.SubscriberWebhook) {
		return sw.Invalid("operator", "operators' alert channels are chat and on-call tools; owners and admins get notices by mail already")
	}
	_, err = tx.db.ExecContext(ctx, `INSERT INTO subscribers (id, workspace_id, type, email, url, secret, min_impact, format, page_root, confirmed_at, created_at, operator, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, s.ID, s.WorkspaceID, s.Type, s.Email, s.URL, secret, string(s.MinImpact),
		s.Format, s.PageRoot, nullTS(s.ConfirmedAt), ts(tx.now), s.Operator, s.Language)
	if isUniqueViolation(err) {
		return fmt.Errorf("this %s subscriber exists already: %w", s.Type, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create subscriber: %w", err)
	}
	if err := tx.linkSubscriber(ctx, s, comps); err != nil {
		return err
	}
	if s.Type == sw.SubscriberEmail && s.ConfirmedAt == nil {
		// Past an address's cap the subscriber is kept unconfirmed and
		// unmailed; subscribing again later sends the link.
		if err := tx.SendConfirmation(ctx, s); err != nil && !errors.Is(err, ErrTooSoon) {
			return err
		}
	}
	return nil
}

func (tx *Tx) linkSubscriber(ctx context.Context, s *sw.Subscriber, comps []sw.Component) error {
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM subscriber_components WHERE subscriber_id = $1`, s.ID); err != nil {
		return fmt.Errorf("subscriber components: %w", err)
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

// ConfirmationInterval is how often one address may be sent a double
// opt-in mail, so that the subscribe form cannot be used to flood a mailbox.
const ConfirmationInterval = 10 * time.Minute

// MaxConfirmationsPerHour caps the double opt-in mails one address is
// sent in an hour, whichever workspaces it subscribes to.
const MaxConfirmationsPerHour = 3

// ErrTooSoon says a confirmation mail went to the address a moment ago.
var ErrTooSoon = errors.New("a confirmation mail was sent to this address a few minutes ago")

// SendConfirmation queues the double opt-in mail for email subscriber s,
// at most once per ConfirmationInterval.
func (tx *Tx) SendConfirmation(ctx context.Context, s *sw.Subscriber) error {
	// Across the installation, not per workspace: N workspaces must not
	// mean N confirmation mails an hour to one victim. Only a count
	// crosses workspaces here, nothing of theirs is read.
	var recent int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers WHERE type = 'email' AND email = $1 AND confirm_sent_at > $2`,
		s.Email, ts(tx.now.Add(-time.Hour))).Scan(&recent); err != nil {
		return fmt.Errorf("confirmations to %s: %w", s.ID, err)
	}
	if recent >= MaxConfirmationsPerHour {
		return ErrTooSoon
	}
	res, err := tx.db.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = $3 WHERE workspace_id = $1 AND id = $2
		AND (confirm_sent_at IS NULL OR confirm_sent_at <= $4)`, s.WorkspaceID, s.ID, ts(tx.now), ts(tx.now.Add(-ConfirmationInterval)))
	if err != nil {
		return fmt.Errorf("confirmation of %s: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrTooSoon
	}
	snap := *s
	return tx.emitEvent(ctx, &sw.NotificationEvent{WorkspaceID: s.WorkspaceID, Kind: sw.EventSubscriptionConfirm, Subscriber: &snap},
		nil, sw.ImpactCritical, s.ID)
}

// SubscriberByEmail returns workspace ws's email subscriber address.
func (r *Reader) SubscriberByEmail(ctx context.Context, ws, address string) (*sw.Subscriber, error) {
	s, err := scanSubscriber(r.db.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers
		WHERE workspace_id = $1 AND type = 'email' AND email = $2`, ws, address))
	if err != nil {
		return nil, notFound(err, "subscriber", address)
	}
	list := []sw.Subscriber{*s}
	if err := r.loadSubscriberComponents(ctx, ws, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// ConfirmSubscriber confirms an email subscriber (the double opt-in link
// was followed); confirming twice is fine.
func (tx *Tx) ConfirmSubscriber(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, $3) WHERE workspace_id = $1 AND id = $2`,
		ws, id, ts(tx.now))
	return affectedOne(res, err, "subscriber", id)
}

// SubscriberEdit changes a subscriber; nil fields stay as they are.
type SubscriberEdit struct {
	Components *[]string
	MinImpact  *sw.Impact
	Format     *string
	// Enabled true turns a disabled subscriber back on (deliveries resume
	// with the next event); false disables it.
	Enabled *bool
}

// EditSubscriber applies e to workspace ws's subscriber id.
func (tx *Tx) EditSubscriber(ctx context.Context, ws, id string, e SubscriberEdit) (*sw.Subscriber, error) {
	s, err := tx.Subscriber(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if e.MinImpact != nil {
		if !e.MinImpact.Valid() {
			return nil, sw.Invalid("min_impact", "must be one of none, minor, major, critical")
		}
		s.MinImpact = *e.MinImpact
	}
	if e.Format != nil {
		if s.Type != sw.SubscriberWebhook || (*e.Format != sw.FormatStormwatch && *e.Format != sw.FormatStatuspage) {
			return nil, sw.Invalid("format", "webhook subscribers take stormwatch or statuspage; email subscribers none")
		}
		s.Format = *e.Format
	}
	if _, err := tx.db.ExecContext(ctx, `UPDATE subscribers SET min_impact = $3, format = $4 WHERE workspace_id = $1 AND id = $2`,
		ws, id, string(s.MinImpact), s.Format); err != nil {
		return nil, fmt.Errorf("update subscriber %s: %w", id, err)
	}
	if e.Components != nil {
		comps, err := tx.ResolveComponents(ctx, ws, "components", *e.Components)
		if err != nil {
			return nil, err
		}
		if err := tx.linkSubscriber(ctx, s, comps); err != nil {
			return nil, err
		}
	}
	if e.Enabled != nil {
		if *e.Enabled {
			_, err = tx.db.ExecContext(ctx, `UPDATE subscribers SET disabled_at = NULL, disabled_reason = '', failures = 0 WHERE workspace_id = $1 AND id = $2`, ws, id)
		} else {
			_, err = tx.disableSubscriber(ctx, ws, id, "disabled by an operator")
		}
		if err != nil {
			return nil, fmt.Errorf("update subscriber %s: %w", id, err)
		}
	}
	return tx.Subscriber(ctx, ws, id)
}

// DeleteSubscriber removes a subscriber and what was still to be sent to it.
func (tx *Tx) DeleteSubscriber(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM subscribers WHERE workspace_id = $1 AND id = $2`, ws, id)
	return affectedOne(res, err, "subscriber", id)
}

// Thread returns what subscriber sub's tool answered to the first
// message about subject (an incident or window id), or "".
func (r *Reader) Thread(ctx context.Context, sub, subject string) (string, error) {
	var ref string
	err := r.db.QueryRowContext(ctx, `SELECT ref FROM delivery_threads WHERE subscriber_id = $1 AND subject_id = $2`, sub, subject).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("thread of %s: %w", sub, err)
	}
	return ref, nil
}

// StartThread keeps ref as subscriber sub's thread of subject, unless one
// is kept already (the first message is the thread).
func (s *Store) StartThread(ctx context.Context, sub, subject, ref string) error {
	return s.Tx(ctx, func(tx *Tx) error {
		_, err := tx.db.ExecContext(ctx, `INSERT INTO delivery_threads (subscriber_id, subject_id, ref, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subscriber_id, subject_id) DO NOTHING`, sub, subject, ref, ts(tx.now))
		if err != nil {
			return fmt.Errorf("thread of %s: %w", sub, err)
		}
		return nil
	})
}

// SubscriberSecret returns workspace ws's subscriber id with its secret
// (a webhook's signing secret, a tool's credential), for a test send.
func (r *Reader) SubscriberSecret(ctx context.Context, ws, id string) (*sw.Subscriber, string, error) {
	s, err := r.Subscriber(ctx, ws, id)
	if err != nil {
		return nil, "", err
	}
	var secret string
	if err := r.db.QueryRowContext(ctx, `SELECT secret FROM subscribers WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&secret); err != nil {
		return nil, "", notFound(err, "subscriber", id)
	}
	return s, secret, nil
}

// OperatorChannels lists workspace ws's operators' alert channels that
// are not disabled, with their secrets.
func (r *Reader) OperatorChannels(ctx context.Context, ws string) ([]sw.Subscriber, []string, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT `+subscriberColumns+`, secret FROM subscribers
		WHERE workspace_id = $1 AND operator AND disabled_at IS NULL ORDER BY created_at, id`, ws)
	if err != nil {
		return nil, nil, fmt.Errorf("operator channels of %s: %w", ws, err)
	}
	defer rows.Close()
	var subs []sw.Subscriber
	var secrets []string
	for rows.Next() {
		var secret string
		s, err := scanSubscriber(scannerWith{rows, &secret})
		if err != nil {
			return nil, nil, err
		}
		subs, secrets = append(subs, *s), append(secrets, secret)
	}
	return subs, secrets, rows.Err()
}

// scannerWith scans a row whose last columns go to extra.
type scannerWith struct {
	row   rowScanner
	extra *string
}

func (s scannerWith) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }
