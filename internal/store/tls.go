package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// TLSObject is one stored certificate, key or ACME account file.
type TLSObject struct {
	Key      string
	Value    []byte
	Modified time.Time
}

// PutTLS stores value at key, replacing what was there.
func (tx *Tx) PutTLS(ctx context.Context, key string, value []byte) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO tls_objects (key, value, modified) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified = excluded.modified`, key, value, ts(tx.now))
	if err != nil {
		return fmt.Errorf("store tls object %s: %w", key, err)
	}
	return nil
}

// TLS loads the object at key; fs.ErrNotExist when there is none.
func (r *Reader) TLS(ctx context.Context, key string) (*TLSObject, error) {
	o := TLSObject{Key: key}
	var modified int64
	err := r.db.QueryRowContext(ctx, `SELECT value, modified FROM tls_objects WHERE key = $1`, key).Scan(&o.Value, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tls object %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("load tls object %s: %w", key, err)
	}
	o.Modified = fromTS(modified)
	return &o, nil
}

// likeEscaped makes s match itself only in a LIKE pattern (escape \).
func likeEscaped(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// TLSKeys lists the keys under prefix (a "directory": prefix + "/…"), or
// every key when prefix is empty, in order.
func (r *Reader) TLSKeys(ctx context.Context, prefix string) ([]string, error) {
	pattern := "%"
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		pattern = likeEscaped(prefix) + "/%"
	}
	out, err := queryAll(ctx, r.db, scanString, `SELECT key FROM tls_objects WHERE key LIKE $1 ESCAPE '\' ORDER BY key`, pattern)
	if err != nil {
		return nil, fmt.Errorf("list tls objects under %s: %w", prefix, err)
	}
	return out, nil
}

// DeleteTLS removes key and everything under it as a directory.
func (tx *Tx) DeleteTLS(ctx context.Context, key string) error {
	key = strings.Trim(key, "/")
	_, err := tx.db.ExecContext(ctx, `DELETE FROM tls_objects WHERE key = $1 OR key LIKE $2 ESCAPE '\'`, key, likeEscaped(key)+"/%")
	if err != nil {
		return fmt.Errorf("delete tls object %s: %w", key, err)
	}
	return nil
}

// TryTLSLock takes lock name for owner until ttl from now, if nobody
// holds it or its holder's lease ran out.
func (tx *Tx) TryTLSLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	res, err := tx.db.ExecContext(ctx, `INSERT INTO tls_locks (name, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE tls_locks.expires_at < $4`, name, owner, ts(tx.now.Add(ttl)), ts(tx.now))
	if err != nil {
		return false, fmt.Errorf("take tls lock %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RenewTLSLock extends owner's lease of lock name; it fails when the
// lock is no longer owner's.
func (tx *Tx) RenewTLSLock(ctx context.Context, name, owner string, ttl time.Duration) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE tls_locks SET expires_at = $3 WHERE name = $1 AND owner = $2`, name, owner, ts(tx.now.Add(ttl)))
	return affectedOne(res, err, "tls lock", name)
}

// ReleaseTLSLock gives lock name up, if owner still holds it.
func (tx *Tx) ReleaseTLSLock(ctx context.Context, name, owner string) error {
	_, err := tx.db.ExecContext(ctx, `DELETE FROM tls_locks WHERE name = $1 AND owner = $2`, name, owner)
	return err
}
