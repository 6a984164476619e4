package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// AttackIncident returns the incident an agent's attack feeds, "" if none.
func (r *Reader) AttackIncident(ctx context.Context, ws, node, attack string) (string, error) {
	var id string
	err := r.db.QueryRowContext(ctx, `SELECT incident_id FROM attack_incidents WHERE workspace_id = $1 AND node_id = $2 AND attack_id = $3`,
		ws, node, attack).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("incident of attack %s: %w", attack, err)
	}
	return id, nil
}

// LinkAttack records that an agent's attack feeds incident.
func (tx *Tx) LinkAttack(ctx context.Context, ws, node, attack, incident string) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO attack_incidents (node_id, attack_id, workspace_id, incident_id, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node_id, attack_id) DO UPDATE SET incident_id = excluded.incident_id`,
		node, attack, ws, incident, ts(tx.now))
	if err != nil {
		return fmt.Errorf("link attack %s: %w", attack, err)
	}
	return nil
}

// OpenAutoIncident finds an unresolved automatic incident of workspace ws,
// created since since, that affects one of the components: the incident a
// new attack on them joins instead of opening another.
func (r *Reader) OpenAutoIncident(ctx context.Context, ws string, componentIDs []string, since time.Time) (string, error) {
	if len(componentIDs) == 0 {
		return "", nil
	}
	args := []any{ws, ts(since)}
	for _, c := range componentIDs {
		args = append(args, c)
	}
	var id string
	err := r.db.QueryRowContext(ctx, `SELECT i.id FROM incidents i JOIN incident_components ic ON ic.incident_id = i.id
		WHERE i.workspace_id = $1 AND i.source = 'auto' AND i.status <> 'resolved' AND i.created_at >= $2
		AND ic.component_id IN (`+placeholders(3, len(componentIDs))+`) ORDER BY i.created_at DESC, i.id LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("open automatic incident: %w", err)
	}
	return id, nil
}

// Timer is a durable scheduled action.
type Timer struct {
	ID, WorkspaceID, Kind, Ref string
	Due                        time.Time
}

// SetTimer schedules (or moves) the timer kind/ref of workspace ws to due,
// re-arming it if it had fired.
func (tx *Tx) SetTimer(ctx context.Context, ws, kind, ref string, due time.Time) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO timers (id, workspace_id, kind, ref, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workspace_id, kind, ref) DO UPDATE SET due_at = excluded.due_at, done_at = NULL`,
		sw.NewID("tmr_"), ws, kind, ref, ts(due), ts(tx.now))
	if err != nil {
		return fmt.Errorf("set timer %s %s: %w", kind, ref, err)
	}
	return nil
}

// TimerPending reports whether timer kind/ref is set and has not fired.
func (r *Reader) TimerPending(ctx context.Context, ws, kind, ref string) (bool, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM timers WHERE workspace_id = $1 AND kind = $2 AND ref = $3 AND done_at IS NULL`,
		ws, kind, ref).Scan(&n)
	return n > 0, err
}

// CancelTimer disarms timer kind/ref; cancelling a missing timer is fine.
func (tx *Tx) CancelTimer(ctx context.Context, ws, kind, ref string) error {
	_, err := tx.db.ExecContext(ctx, `UPDATE timers SET done_at = $4 WHERE workspace_id = $1 AND kind = $2 AND ref = $3 AND done_at IS NULL`,
		ws, kind, ref, ts(tx.now))
	return err
}

// DueTimers lists up to limit timers due at now, oldest first.
func (r *Reader) DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, workspace_id, kind, ref, due_at FROM timers
		WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2`, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due timers: %w", err)
	}
	defer rows.Close()
	var out []Timer
	for rows.Next() {
		var t Timer
		var due int64
		if err := rows.Scan(&t.ID, &t.WorkspaceID, &t.Kind, &t.Ref, &due); err != nil {
			return nil, err
		}
		t.Due = fromTS(due)
		out = append(out, t)
	}
	return out, rows.Err()
}

// ClaimTimer marks timer id fired, in this transaction, and reports
// whether this caller won it: of several replicas only one does, and if
// its transaction fails the timer stays armed.
func (tx *Tx) ClaimTimer(ctx context.Context, id string) (bool, error) {
	res, err := tx.db.ExecContext(ctx, `UPDATE timers SET done_at = $2 WHERE id = $1 AND done_at IS NULL`, id, ts(tx.now))
	if err != nil {
		return false, fmt.Errorf("claim timer %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// NodeComponents returns the components a node is linked to.
func (r *Reader) NodeComponents(ctx context.Context, ws, node string) ([]sw.Component, error) {
	return r.queryComponents(ctx, `SELECT `+componentColumns+` FROM components
		WHERE workspace_id = $1 AND id IN (SELECT component_id FROM node_components WHERE node_id = $2)
		ORDER BY position, created_at, id`, ws, node)
}
