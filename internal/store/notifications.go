package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// PrefixEvent and PrefixDelivery are the id prefixes of notification
// events and deliveries. A delivery id is derived from its event and
// subscriber, so fanning an event out twice cannot make a second one.
const (
	PrefixEvent    = "evt_"
	PrefixDelivery = "msg_"
)

// emitEvent writes ev to the outbox in this transaction, for the
// subscribers of componentIDs (or of everything when an incident names
// none) whose minimum impact is at most impact; only, when set, narrows it
// to that one subscriber. The event is fanned out after commit, so a
// rolled-back change tells nobody and a committed one is never lost.
func (tx *Tx) emitEvent(ctx context.Context, ev *sw.NotificationEvent, componentIDs []string, impact sw.Impact, only string) error {
	ev.ID = sw.NewID(PrefixEvent)
	ev.At = tx.now
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	rank := impact.Rank()
	if rank < 0 {
		rank = sw.ImpactCritical.Rank() // maintenance: every subscriber of its components
	}
	subject := only
	switch {
	case ev.Incident != nil:
		subject = ev.Incident.ID
	case ev.Maintenance != nil:
		subject = ev.Maintenance.ID
	}
	if _, err := tx.db.ExecContext(ctx, `INSERT INTO notification_events (id, workspace_id, kind, subject_id, impact_rank, only_subscriber, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ev.ID, ev.WorkspaceID, ev.Kind, subject, rank, only, string(payload), ts(tx.now)); err != nil {
		return fmt.Errorf("record %s event: %w", ev.Kind, err)
	}
	for _, c := range componentIDs {
		if _, err := tx.db.ExecContext(ctx, `INSERT INTO notification_event_components (event_id, component_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, ev.ID, c); err != nil {
			return fmt.Errorf("record %s event components: %w", ev.Kind, err)
		}
	}
	tx.notified = true
	return nil
}

// emitIncident tells the subscribers of a public incident's components
// that it was created, updated or resolved.
func (tx *Tx) emitIncident(ctx context.Context, kind string, inc *sw.Incident) error {
	if inc.Visibility != sw.VisibilityPublic {
		return nil
	}
	snap := *inc
	return tx.emitEvent(ctx, &sw.NotificationEvent{WorkspaceID: inc.WorkspaceID, Kind: kind, Incident: &snap},
		componentIDs(inc), inc.Impact, "")
}

// EmitMaintenance tells the subscribers of window m's components that it
// was scheduled, starts soon (reminder: how long before), started or
// completed.
func (tx *Tx) EmitMaintenance(ctx context.Context, kind string, m *sw.Maintenance, reminder string) error {
	ids, err := tx.maintenanceComponentIDs(ctx, m.WorkspaceID, m.ID)
	if err != nil {
		return err
	}
	snap := *m
	return tx.emitEvent(ctx, &sw.NotificationEvent{WorkspaceID: m.WorkspaceID, Kind: kind, Maintenance: &snap, Reminder: reminder},
		ids, "", "")
}

// PendingEvents lists up to limit events not yet fanned out, oldest first.
func (r *Reader) PendingEvents(ctx context.Context, limit int) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id FROM notification_events WHERE fanned_out_at IS NULL ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// FanOut makes one delivery per matching subscriber of event id and marks
// the event fanned out, in one statement per step of this transaction.
// Running it again (after a crash, on another replica) adds nothing: a
// delivery's id is a function of its event and subscriber.
func (tx *Tx) FanOut(ctx context.Context, id string) (int, error) {
	res, err := tx.db.ExecContext(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, subscriber_id, state, attempts, next_attempt_at, created_at)
		SELECT '`+PrefixDelivery+`' || substr(e.id, 5) || substr(s.id, 5), e.workspace_id, e.id, s.id, 'pending', 0, $2, $2
		FROM notification_events e JOIN subscribers s ON s.workspace_id = e.workspace_id
		WHERE e.id = $1 AND e.fanned_out_at IS NULL AND s.disabled_at IS NULL AND NOT s.operator AND (e.only_subscriber = s.id OR (e.only_subscriber = ''
			AND s.confirmed_at IS NOT NULL
			AND (CASE s.min_impact WHEN 'none' THEN 0 WHEN 'minor' THEN 1 WHEN 'major' THEN 2 ELSE 3 END) <= e.impact_rank
			AND (NOT EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id)
				OR EXISTS (SELECT 1 FROM subscriber_components sc JOIN notification_event_components ec ON ec.component_id = sc.component_id
					WHERE sc.subscriber_id = s.id AND ec.event_id = e.id))))
		ON CONFLICT DO NOTHING`, id, ts(tx.now))
	if err != nil {
		return 0, fmt.Errorf("fan out event %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.db.ExecContext(ctx, `UPDATE notification_events SET fanned_out_at = $2 WHERE id = $1`, id, ts(tx.now)); err != nil {
		return 0, fmt.Errorf("mark event %s fanned out: %w", id, err)
	}
	return int(n), nil
}

// Outbound is a claimed delivery with what sending it needs.
type Outbound struct {
	sw.Delivery
	Subscriber sw.Subscriber
	Secret     string
	// Payload is the event as it was recorded (sw.NotificationEvent JSON).
	Payload []byte
}

// ClaimDeliveries leases up to limit due deliveries to the caller until
// now+lease, counting an attempt for each. A claimant that dies leaves its
// lease to expire; the delivery is then claimed again under the same id.
func (tx *Tx) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Outbound, error) {
	lock := ""
	if tx.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now := ts(tx.now)
	// A subscriber hears its events in order: a delivery waits while an
	// older one to the same subscriber is pending (in flight or waiting
	// to retry), so "resolved" never overtakes "identified" in a chat or
	// a PagerDuty service.
	rows, err := tx.db.QueryContext(ctx, `UPDATE deliveries SET lease_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT d.id FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)
			AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.subscriber_id = d.subscriber_id AND o.state = 'pending'
				AND (o.created_at < d.created_at OR (o.created_at = d.created_at AND o.id < d.id)))
			ORDER BY d.next_attempt_at, d.id LIMIT $3`+lock+`)
		RETURNING id`, now, ts(tx.now.Add(lease)), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	out, err := queryAll(ctx, tx.db, scanOutbound, `SELECT d.id, d.workspace_id, d.event_id, e.kind, d.subscriber_id, d.state, d.attempts, d.created_at,
		s.type, s.email, s.url, s.secret, s.format, s.page_root, s.min_impact, s.created_at, s.language
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN notification_events e ON e.id = d.event_id
		WHERE d.id IN (`+placeholders(1, len(ids))+`) ORDER BY d.next_attempt_at, d.id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("load claimed deliveries: %w", err)
	}
	payloads := map[string][]byte{}
	for i := range out {
		p, ok := payloads[out[i].EventID]
		if !ok {
			var s string
			if err := tx.db.QueryRowContext(ctx, `SELECT payload FROM notification_events WHERE id = $1`, out[i].EventID).Scan(&s); err != nil {
				return nil, fmt.Errorf("load event %s: %w", out[i].EventID, err)
			}
			p = []byte(s)
			payloads[out[i].EventID] = p
		}
		out[i].Payload = p
	}
	return out, nil
}

func scanOutbound(row rowScanner) (*Outbound, error) {
	var o Outbound
	var created, subCreated int64
	s := &o.Subscriber
	if err := row.Scan(&o.ID, &o.WorkspaceID, &o.EventID, &o.Event, &o.SubscriberID, &o.State, &o.Attempts, &created,
		&s.Type, &s.Email, &s.URL, &o.Secret, &s.Format, &s.PageRoot, &s.MinImpact, &subCreated, &s.Language); err != nil {
		return nil, err
	}
	o.CreatedAt, s.CreatedAt = fromTS(created), fromTS(subCreated)
	s.ID, s.WorkspaceID = o.SubscriberID, o.WorkspaceID
	s.Fill()
	return &o, nil
}

// Outcome is how one attempt of a claimed delivery went.
type Outcome struct {
	DeliveryID   string
	WorkspaceID  string
	SubscriberID string
	Attempt      int
	At           time.Time
	Duration     time.Duration
	StatusCode   int
	Err          string
	// Retry, when the attempt failed, is when to try again; zero gives up
	// (a day of retries has passed, or the failure is permanent).
	Retry time.Time
}

// RecordOutcomes writes attempts to the delivery log and moves their
// deliveries on: delivered, due again later, or failed. A delivery that
// gives up disables its subscriber (with an audit entry the dashboard and
// the admin API show) and fails its other pending deliveries. It returns
// the subscribers it disabled.
func (tx *Tx) RecordOutcomes(ctx context.Context, outcomes []Outcome) ([]string, error) {
	var delivered []any
	const batch = 400
	flush := func() error {
		if len(delivered) == 0 {
			return nil
		}
		args := append([]any{ts(tx.now)}, delivered...)
		_, err := tx.db.ExecContext(ctx, `UPDATE deliveries SET state = 'delivered', delivered_at = $1, lease_until = NULL, last_error = ''
			WHERE id IN (`+placeholders(2, len(delivered))+`)`, args...)
		delivered = delivered[:0]
		return err
	}
	if err := tx.logAttempts(ctx, outcomes); err != nil {
		return nil, err
	}
	var disabled []string
	for _, o := range outcomes {
		if o.Err == "" {
			if delivered = append(delivered, o.DeliveryID); len(delivered) == batch {
				if err := flush(); err != nil {
					return nil, fmt.Errorf("mark delivered: %w", err)
				}
			}
			continue
		}
		if !o.Retry.IsZero() {
			if _, err := tx.db.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $2, lease_until = NULL, last_error = $3 WHERE id = $1`,
				o.DeliveryID, ts(o.Retry), o.Err); err != nil {
				return nil, fmt.Errorf("reschedule delivery %s: %w", o.DeliveryID, err)
			}
			if _, err := tx.db.ExecContext(ctx, `UPDATE subscribers SET failures = failures + 1 WHERE id = $1`, o.SubscriberID); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := tx.db.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = $2 WHERE id = $1`,
			o.DeliveryID, o.Err); err != nil {
			return nil, fmt.Errorf("fail delivery %s: %w", o.DeliveryID, err)
		}
		ok, err := tx.disableSubscriber(ctx, o.WorkspaceID, o.SubscriberID, "deliveries failed for a day: "+o.Err)
		if err != nil {
			return nil, err
		}
		if ok {
			disabled = append(disabled, o.SubscriberID)
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("mark delivered: %w", err)
	}
	return disabled, nil
}

// logAttempts appends outcomes to the delivery log, many rows a statement.
func (tx *Tx) logAttempts(ctx context.Context, outcomes []Outcome) error {
	const per = 100 // 8 columns: well under either database's parameter limit
	for start := 0; start < len(outcomes); start += per {
		chunk := outcomes[start:min(start+per, len(outcomes))]
		var q strings.Builder
		q.WriteString(`INSERT INTO delivery_attempts (id, workspace_id, delivery_id, attempt, at, duration_us, status_code, error) VALUES `)
		args := make([]any, 0, 8*len(chunk))
		for i, o := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(len(args)+1, 8) + ")")
			args = append(args, sw.NewID("att_"), o.WorkspaceID, o.DeliveryID, o.Attempt, ts(o.At), o.Duration.Microseconds(), o.StatusCode, o.Err)
		}
		if _, err := tx.db.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("log delivery attempts: %w", err)
		}
	}
	return nil
}

// disableSubscriber stops deliveries to a subscriber, failing what is
// still pending for it, and audits why. It reports whether it changed
// anything (a subscriber disabled already stays as it was).
func (tx *Tx) disableSubscriber(ctx context.Context, ws, id, reason string) (bool, error) {
	res, err := tx.db.ExecContext(ctx, `UPDATE subscribers SET disabled_at = $3, disabled_reason = $4 WHERE workspace_id = $1 AND id = $2 AND disabled_at IS NULL`,
		ws, id, ts(tx.now), reason)
	if err != nil {
		return false, fmt.Errorf("disable subscriber %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.db.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = 'subscriber disabled'
		WHERE subscriber_id = $1 AND state = 'pending'`, id); err != nil {
		return false, fmt.Errorf("fail pending deliveries of %s: %w", id, err)
	}
	details, _ := json.Marshal(map[string]any{"reason": reason})
	if err := tx.Audit(ctx, ws, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorSystem, ID: "notifications", Name: "notifications"}, Action: "subscriber.disabled",
		TargetType: "subscriber", TargetID: id, Details: details}); err != nil {
		return false, err
	}
	var email, url string
	if err := tx.db.QueryRowContext(ctx, `SELECT email, url FROM subscribers WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&email, &url); err != nil {
		return false, fmt.Errorf("read subscriber %s: %w", id, err)
	}
	address := email + url
	return true, tx.addNotice(ctx, ws, "subscriber.disabled", "Notifications to "+address+" stopped",
		"stormwatch stopped sending notifications to "+address+" ("+id+"): "+reason+
			".\n\nFix the receiver, then enable the subscriber again on the Subscribers page of the dashboard; it gets the next notification.")
}

// DeliveryFilter narrows the delivery log.
type DeliveryFilter struct {
	SubscriberID, EventID, State string
}

const deliveryColumns = `d.id, d.workspace_id, d.event_id, e.kind, d.subscriber_id, d.state, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.delivered_at`

func scanDelivery(row rowScanner) (*sw.Delivery, error) {
	var d sw.Delivery
	var next, created int64
	var delivered sql.NullInt64
	if err := row.Scan(&d.ID, &d.WorkspaceID, &d.EventID, &d.Event, &d.SubscriberID, &d.State, &d.Attempts, &next, &d.LastError, &created, &delivered); err != nil {
		return nil, err
	}
	if d.State == sw.DeliveryPending {
		t := fromTS(next)
		d.NextAttempt = &t
	}
	d.CreatedAt, d.DeliveredAt = fromTS(created), fromNullTS(delivered)
	return &d, nil
}

// Deliveries lists workspace ws's deliveries, newest first.
func (r *Reader) Deliveries(ctx context.Context, ws string, f DeliveryFilter, p Page) ([]sw.Delivery, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries d
		JOIN notification_events e ON e.id = d.event_id
		WHERE d.workspace_id = $1 AND ($2 = '' OR d.subscriber_id = $2) AND ($3 = '' OR d.event_id = $3) AND ($4 = '' OR d.state = $4)
		ORDER BY d.created_at DESC, d.id LIMIT $5 OFFSET $6`, ws, f.SubscriberID, f.EventID, f.State, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list deliveries: %w", err)
	}
	return out, more, nil
}

// Delivery returns workspace ws's delivery id with its attempts.
func (r *Reader) Delivery(ctx context.Context, ws, id string) (*sw.Delivery, []sw.DeliveryAttempt, error) {
	d, err := scanDelivery(r.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
		JOIN notification_events e ON e.id = d.event_id WHERE d.workspace_id = $1 AND d.id = $2`, ws, id))
	if err != nil {
		return nil, nil, notFound(err, "delivery", id)
	}
	attempts, err := queryAll(ctx, r.db, func(row rowScanner) (*sw.DeliveryAttempt, error) {
		var a sw.DeliveryAttempt
		var at, us int64
		if err := row.Scan(&a.DeliveryID, &a.Attempt, &at, &us, &a.StatusCode, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.DurationMS = fromTS(at), float64(us)/1000
		return &a, nil
	}, `SELECT delivery_id, attempt, at, duration_us, status_code, error FROM delivery_attempts
		WHERE workspace_id = $1 AND delivery_id = $2 ORDER BY attempt, at`, ws, id)
	if err != nil {
		return nil, nil, fmt.Errorf("delivery attempts: %w", err)
	}
	if attempts == nil {
		attempts = []sw.DeliveryAttempt{}
	}
	return d, attempts, nil
}

// InstallationSecret returns the named random key shared by every replica
// of this installation (signing subscription links), making it on first use.
func (s *Store) InstallationSecret(ctx context.Context, name string) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	fresh := base64.RawStdEncoding.EncodeToString(b[:])
	if _, err := s.sqlDB.ExecContext(ctx, `INSERT INTO installation_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, fresh); err != nil {
		return nil, fmt.Errorf("installation secret %s: %w", name, err)
	}
	var v string
	if err := s.sqlDB.QueryRowContext(ctx, `SELECT value FROM installation_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("installation secret %s: %w", name, err)
	}
	key, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("installation secret " + name + " is not base64")
	}
	return key, nil
}
