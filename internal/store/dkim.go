package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DKIMKey signs a workspace's mail from its own domain.
type DKIMKey struct {
	WorkspaceID string
	Domain      string
	Selector    string
	// PrivateKey is PEM.
	PrivateKey string
	CreatedAt  time.Time
}

// EnsureDKIMKey makes sure workspace ws has a key for the domain of its
// sender address, made by newKey the first time.
func (tx *Tx) EnsureDKIMKey(ctx context.Context, ws, domain string, newKey func() (string, error)) error {
	domain = strings.ToLower(domain)
	var n int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dkim_keys WHERE workspace_id = $1 AND domain = $2`, ws, domain).Scan(&n); err != nil {
		return fmt.Errorf("find dkim key: %w", err)
	}
	if n > 0 {
		return nil
	}
	key, err := newKey()
	if err != nil {
		return fmt.Errorf("make dkim key: %w", err)
	}
	// The selector names the month, so a later rotation can publish a
	// new one beside it.
	selector := "sw" + tx.now.UTC().Format("200601")
	_, err = tx.db.ExecContext(ctx, `INSERT INTO dkim_keys (workspace_id, domain, selector, private_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
		ws, domain, selector, key, ts(tx.now))
	if err != nil {
		return fmt.Errorf("store dkim key: %w", err)
	}
	return nil
}

// DKIMKey returns workspace ws's key for domain.
func (r *Reader) DKIMKey(ctx context.Context, ws, domain string) (*DKIMKey, error) {
	k := DKIMKey{WorkspaceID: ws}
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT domain, selector, private_key, created_at FROM dkim_keys WHERE workspace_id = $1 AND domain = $2`,
		ws, strings.ToLower(domain)).Scan(&k.Domain, &k.Selector, &k.PrivateKey, &created)
	if err != nil {
		return nil, notFound(err, "dkim key", domain)
	}
	k.CreatedAt = fromTS(created)
	return &k, nil
}
