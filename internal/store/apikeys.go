package store

import (
	"context"
	"database/sql"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
)

const apiKeyColumns = `id, workspace_id, name, prefix, role, created_at, last_used_at, revoked_at`

func scanAPIKey(row rowScanner) (*sw.APIKey, error) {
	var k sw.APIKey
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, &k.Role, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromTS(created), fromNullTS(used), fromNullTS(revoked)
	return &k, nil
}

// CreateAPIKey makes a new key for workspace ws and returns it together
// with the secret, which is not stored and cannot be shown again.
func (tx *Tx) CreateAPIKey(ctx context.Context, ws, name string, role sw.Role) (*sw.APIKey, string, error) {
	if err := sw.CheckText("name", name, sw.MaxNameLen, true); err != nil {
		return nil, "", err
	}
	if !role.Valid() {
		return nil, "", sw.Invalid("role", "must be one of owner, admin, editor, viewer")
	}
	token := secret.New(secret.KindAPIKey)
	k := &sw.APIKey{ID: sw.NewID(sw.PrefixAPIKey), WorkspaceID: ws, Name: name, Prefix: secret.Prefix(token), Role: role, CreatedAt: tx.now}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO api_keys (id, workspace_id, name, prefix, hash, role, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ID, ws, name, k.Prefix, secret.Hash(token), string(role), ts(tx.now))
	if err != nil {
		return nil, "", fmt.Errorf("create api key: %w", err)
	}
	return k, token, nil
}

// APIKeyByToken finds the live (not revoked) key whose secret is token.
func (r *Reader) APIKeyByToken(ctx context.Context, token string) (*sw.APIKey, error) {
	k, err := scanAPIKey(r.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE hash = $1 AND revoked_at IS NULL`, secret.Hash(token)))
	if err != nil {
		return nil, notFound(err, "api key", secret.Prefix(token))
	}
	return k, nil
}

// TouchAPIKey records that key id was used at the transaction's time.
func (tx *Tx) TouchAPIKey(ctx context.Context, ws, id string) error {
	_, err := tx.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $3 WHERE workspace_id = $1 AND id = $2`, ws, id, ts(tx.now))
	return err
}

// APIKeys lists workspace ws's keys, newest first, revoked ones included.
func (r *Reader) APIKeys(ctx context.Context, ws string, p Page) ([]sw.APIKey, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list api keys: %w", err)
	}
	return out, more, nil
}

// APIKey returns workspace ws's key id.
func (r *Reader) APIKey(ctx context.Context, ws, id string) (*sw.APIKey, error) {
	k, err := scanAPIKey(r.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "api key", id)
	}
	return k, nil
}

// RevokeAPIKey makes key id unusable from now on. Revoking a revoked key
// is not an error.
func (tx *Tx) RevokeAPIKey(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3)
		WHERE workspace_id = $1 AND id = $2`, ws, id, ts(tx.now))
	return affectedOne(res, err, "api key", id)
}
