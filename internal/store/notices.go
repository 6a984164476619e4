package store

import (
	"context"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Notice is a message for a workspace's owners and admins.
type Notice struct {
	ID          string
	WorkspaceID string
	Kind        string
	Subject     string
	// Body is plain text; the sender adds the dashboard link.
	Body     string
	Attempts int
	// To are the addresses of the workspace's owners and admins when the
	// notice was claimed.
	To []string
}

// AddNotice queues a notice for workspace ws's admins and operator
// channels in this transaction (kind names what happened, for filters).
func (tx *Tx) AddNotice(ctx context.Context, ws, kind, subject, body string) error {
	return tx.addNotice(ctx, ws, kind, subject, body)
}

// addNotice queues a notice for workspace ws's admins in this transaction.
func (tx *Tx) addNotice(ctx context.Context, ws, kind, subject, body string) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO admin_notices (id, workspace_id, kind, subject, body, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, sw.NewID("ntc_"), ws, kind, subject, body, ts(tx.now))
	if err != nil {
		return fmt.Errorf("queue admin notice: %w", err)
	}
	tx.notified = true
	return nil
}

// ClaimNotices takes up to limit due notices for lease, with their
// recipients.
func (tx *Tx) ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]Notice, error) {
	lock := ""
	if tx.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	out, err := queryAll(ctx, tx.db, func(row rowScanner) (*Notice, error) {
		var n Notice
		return &n, row.Scan(&n.ID, &n.WorkspaceID, &n.Kind, &n.Subject, &n.Body, &n.Attempts)
	}, `UPDATE admin_notices SET next_attempt_at = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM admin_notices WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $3`+lock+`)
		RETURNING id, workspace_id, kind, subject, body, attempts`, ts(tx.now), ts(tx.now.Add(lease)), limit)
	if err != nil {
		return nil, fmt.Errorf("claim admin notices: %w", err)
	}
	for i := range out {
		if out[i].To, err = tx.WorkspaceAdmins(ctx, out[i].WorkspaceID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NoticeSent marks a notice done.
func (tx *Tx) NoticeSent(ctx context.Context, id string) error {
	_, err := tx.db.ExecContext(ctx, `UPDATE admin_notices SET sent_at = $2 WHERE id = $1`, id, ts(tx.now))
	return err
}

// RetryNotice puts a notice that could not be sent back in the queue.
func (tx *Tx) RetryNotice(ctx context.Context, id string, at time.Time) error {
	_, err := tx.db.ExecContext(ctx, `UPDATE admin_notices SET next_attempt_at = $2 WHERE id = $1`, id, ts(at))
	return err
}

// PendingNotices lists workspace ws's notices not sent yet, oldest first.
func (r *Reader) PendingNotices(ctx context.Context, ws string) ([]Notice, error) {
	return queryAll(ctx, r.db, func(row rowScanner) (*Notice, error) {
		var n Notice
		return &n, row.Scan(&n.ID, &n.WorkspaceID, &n.Kind, &n.Subject, &n.Body, &n.Attempts)
	}, `SELECT id, workspace_id, kind, subject, body, attempts FROM admin_notices WHERE workspace_id = $1 AND sent_at IS NULL
		ORDER BY created_at, id`, ws)
}

// NoticeOnce queues a notice unless one of the same kind and subject was
// queued for workspace ws since since (a certificate that keeps failing
// is told once a day, not at every retry).
func (tx *Tx) NoticeOnce(ctx context.Context, ws, kind, subject, body string, since time.Time) error {
	var n int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_notices WHERE workspace_id = $1 AND kind = $2 AND subject = $3
		AND created_at >= $4`, ws, kind, subject, ts(since)).Scan(&n); err != nil {
		return fmt.Errorf("recent notices: %w", err)
	}
	if n > 0 {
		return nil
	}
	return tx.addNotice(ctx, ws, kind, subject, body)
}
