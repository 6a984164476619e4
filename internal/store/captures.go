package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Capture is an attack's pcapng as an agent uploaded it.
type Capture struct {
	AttackID  string
	NodeID    string
	Data      []byte
	Packets   int
	CreatedAt time.Time
}

// SaveCapture keeps node's capture of its attack id in workspace ws,
// replacing an earlier one (an agent that uploads again after a lost
// answer). The attack must be known: ErrNotFound otherwise.
func (tx *Tx) SaveCapture(ctx context.Context, ws, node, id string, data []byte, packets int) error {
	var n int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM attacks WHERE workspace_id = $1 AND node_id = $2 AND id = $3`, ws, node, id).Scan(&n); err != nil {
		return fmt.Errorf("capture of %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("attack %s: %w", id, ErrNotFound)
	}
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM attack_captures WHERE workspace_id = $1 AND node_id = $2 AND attack_id = $3`, ws, node, id); err != nil {
		return fmt.Errorf("capture of %s: %w", id, err)
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO attack_captures (node_id, attack_id, workspace_id, data, size, packets, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, node, id, ws, data, len(data), packets, ts(tx.now))
	if err != nil {
		return fmt.Errorf("capture of %s: %w", id, err)
	}
	return nil
}

// Capture returns workspace ws's capture of attack id (the newest, when
// several nodes saw attacks of that id).
func (r *Reader) Capture(ctx context.Context, ws, id string) (*Capture, error) {
	var c Capture
	var at int64
	err := r.db.QueryRowContext(ctx, `SELECT attack_id, node_id, data, packets, created_at FROM attack_captures
		WHERE workspace_id = $1 AND attack_id = $2 ORDER BY created_at DESC LIMIT 1`, ws, id).Scan(&c.AttackID, &c.NodeID, &c.Data, &c.Packets, &at)
	if err != nil {
		return nil, notFound(err, "capture of attack", id)
	}
	c.CreatedAt = fromTS(at)
	return &c, nil
}

// CaptureInfo says whether attack id of workspace ws has a capture, and
// its size, without reading it.
func (r *Reader) CaptureInfo(ctx context.Context, ws, id string) (*sw.CaptureInfo, error) {
	var ci sw.CaptureInfo
	var at int64
	err := r.db.QueryRowContext(ctx, `SELECT size, packets, created_at FROM attack_captures WHERE workspace_id = $1 AND attack_id = $2
		ORDER BY created_at DESC LIMIT 1`, ws, id).Scan(&ci.Size, &ci.Packets, &at)
	if err != nil {
		return nil, notFound(err, "capture of attack", id)
	}
	ci.CreatedAt = fromTS(at)
	return &ci, nil
}

// PruneCaptures deletes the captures kept before before; it returns how
// many went.
func (tx *Tx) PruneCaptures(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM attack_captures WHERE created_at < $1`, ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune captures: %w", err)
	}
	return res.RowsAffected()
}

// PruneCapturesEvery deletes the captures older than retention every
// interval until ctx ends (on the elected replica).
func (s *Store) PruneCapturesEvery(ctx context.Context, interval, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var n int64
		err := s.Tx(ctx, func(tx *Tx) error {
			var err error
			n, err = tx.PruneCaptures(ctx, tx.now.Add(-retention))
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("prune attack captures", "err", err)
		case n > 0:
			log.Info("attack captures past their retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
