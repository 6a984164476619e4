package store

import (
	"context"
	"encoding/json"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

// Audit records an entry in workspace ws's audit log, in this transaction,
// so that a change and its record commit together or not at all.
func (tx *Tx) Audit(ctx context.Context, ws string, e *sw.AuditEntry) error {
	e.ID = sw.NewID(sw.PrefixAudit)
	e.At = tx.now
	details := ""
	if len(e.Details) > 0 {
		details = string(e.Details)
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO audit_log (id, workspace_id, at, actor_type, actor_id, actor_name, action, target_type, target_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, ws, ts(e.At), e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Action, e.TargetType, e.TargetID, details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Audited runs fn in a transaction and records what it did in workspace
// ws's audit log as actor's action on the target fn names, in the same
// transaction.
func (s *Store) Audited(ctx context.Context, ws string, actor sw.Actor, action, targetType string,
	fn func(tx *Tx) (targetID string, details any, err error)) error {
	return s.Tx(ctx, func(tx *Tx) error {
		id, details, err := fn(tx)
		if err != nil {
			return err
		}
		e := &sw.AuditEntry{Actor: actor, Action: action, TargetType: targetType, TargetID: id}
		if details != nil {
			if e.Details, err = json.Marshal(details); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, ws, e)
	})
}

const auditColumns = `id, at, actor_type, actor_id, actor_name, action, target_type, target_id, details`

func scanAudit(row rowScanner) (*sw.AuditEntry, error) {
	var e sw.AuditEntry
	var at int64
	var details string
	if err := row.Scan(&e.ID, &at, &e.Actor.Type, &e.Actor.ID, &e.Actor.Name, &e.Action, &e.TargetType, &e.TargetID, &details); err != nil {
		return nil, err
	}
	e.At = fromTS(at)
	if details != "" {
		e.Details = json.RawMessage(details)
	}
	return &e, nil
}

// AuditLog lists workspace ws's audit entries, newest first.
func (r *Reader) AuditLog(ctx context.Context, ws string, p Page) ([]sw.AuditEntry, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanAudit, `SELECT `+auditColumns+`
		FROM audit_log WHERE workspace_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("audit log: %w", err)
	}
	return out, more, nil
}

// AuditOf lists workspace ws's audit entries about one target, oldest
// first.
func (r *Reader) AuditOf(ctx context.Context, ws, targetType, id string) ([]sw.AuditEntry, error) {
	out, err := queryAll(ctx, r.db, scanAudit, `SELECT `+auditColumns+` FROM audit_log
		WHERE workspace_id = $1 AND target_type = $2 AND target_id = $3 ORDER BY at, id LIMIT 200`, ws, targetType, id)
	if err != nil {
		return nil, fmt.Errorf("audit of %s %s: %w", targetType, id, err)
	}
	return out, nil
}
