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

// AuditLog lists workspace ws's audit entries, newest first.
func (r *Reader) AuditLog(ctx context.Context, ws string, p Page) ([]sw.AuditEntry, bool, error) {
	p = p.clamp()
	rows, err := r.db.QueryContext(ctx, `SELECT id, at, actor_type, actor_id, actor_name, action, target_type, target_id, details
		FROM audit_log WHERE workspace_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []sw.AuditEntry
	for rows.Next() {
		var e sw.AuditEntry
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Actor.Type, &e.Actor.ID, &e.Actor.Name, &e.Action, &e.TargetType, &e.TargetID, &details); err != nil {
			return nil, false, err
		}
		e.At = fromTS(at)
		if details != "" {
			e.Details = json.RawMessage(details)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	out, more := trim(out, p)
	return out, more, nil
}
