package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RuleText returns workspace ws's rule text, or ok false when it has never
// set one (the default applies).
func (r *Reader) RuleText(ctx context.Context, ws string) (text string, updated time.Time, ok bool, err error) {
	var at int64
	err = r.db.QueryRowContext(ctx, `SELECT text, updated_at FROM rule_sets WHERE workspace_id = $1`, ws).Scan(&text, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("rules of %s: %w", ws, err)
	}
	return text, fromTS(at), true, nil
}

// SetRuleText stores workspace ws's rule text (the caller validated it).
func (tx *Tx) SetRuleText(ctx context.Context, ws, text string) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO rule_sets (workspace_id, text, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`, ws, text, ts(tx.now))
	if err != nil {
		return fmt.Errorf("set rules of %s: %w", ws, err)
	}
	return nil
}
