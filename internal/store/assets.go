package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Asset is an uploaded image of a workspace (logo, favicon). Its id is
// derived from its bytes, so a URL names one content forever and can be
// cached as long as a browser likes.
type Asset struct {
	ID          string
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// AssetID is the id an asset with data and extension ext gets.
func AssetID(data []byte, ext string) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12]) + ext
}

// PutAsset stores an image for workspace ws and returns its id; the same
// bytes stored twice are one asset.
func (tx *Tx) PutAsset(ctx context.Context, ws, contentType, ext string, data []byte) (string, error) {
	id := AssetID(data, ext)
	var n int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&n); err != nil {
		return "", fmt.Errorf("find asset: %w", err)
	}
	if n > 0 {
		return id, nil
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO assets (workspace_id, id, content_type, data, created_at) VALUES ($1, $2, $3, $4, $5)`,
		ws, id, contentType, data, ts(tx.now))
	if err != nil {
		return "", fmt.Errorf("store asset: %w", err)
	}
	return id, nil
}

// Asset returns workspace ws's asset id.
func (r *Reader) Asset(ctx context.Context, ws, id string) (*Asset, error) {
	var a Asset
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT id, content_type, data, created_at FROM assets WHERE workspace_id = $1 AND id = $2`, ws, id).
		Scan(&a.ID, &a.ContentType, &a.Data, &created)
	if err != nil {
		return nil, notFound(err, "asset", id)
	}
	a.CreatedAt = fromTS(created)
	return &a, nil
}
