package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// An attack's capture is kept with it, replaced by a second upload,
// refused for an attack the store does not know, and pruned once past
// its retention; another workspace never reads it.
func TestCapturesKeptAndPruned(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			s := storetest.Open(t, d, store.WithClock(func() time.Time { return now }))
			w := newWorkspace(t, s, "acme")
			other := newWorkspace(t, s, "other")
			ctx := context.Background()
			node := &sw.Node{WorkspaceID: w.ID, Name: "edge-1"}
			mustTx(t, s, func(tx *store.Tx) error {
				if _, err := tx.CreateNode(ctx, node, []string{}); err != nil {
					return err
				}
				_, err := tx.RecordAttackEvent(ctx, w.ID, node.ID, &sw.AttackEvent{ID: "e1", AttackID: "atk_1", Type: sw.EventStarted, Seq: 1,
					Target: "203.0.113.7", Severity: "high", Classification: "udp_flood", Title: "UDP flood", At: now, StartedAt: now})
				return err
			})
			mustTx(t, s, func(tx *store.Tx) error { return tx.SaveCapture(ctx, w.ID, node.ID, "atk_1", []byte("first"), 1) })
			mustTx(t, s, func(tx *store.Tx) error { return tx.SaveCapture(ctx, w.ID, node.ID, "atk_1", []byte("second"), 2) })
			c, err := s.Capture(ctx, w.ID, "atk_1")
			if err != nil || string(c.Data) != "second" || c.Packets != 2 {
				t.Fatalf("capture %+v %v", c, err)
			}
			if _, err := s.Capture(ctx, other.ID, "atk_1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another workspace reads the capture: %v", err)
			}
			err = s.Tx(ctx, func(tx *store.Tx) error { return tx.SaveCapture(ctx, w.ID, node.ID, "atk_unknown", []byte("x"), 1) })
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a capture of an unknown attack: %v", err)
			}
			prune := func(retention time.Duration) int64 {
				var n int64
				mustTx(t, s, func(tx *store.Tx) error {
					var err error
					n, err = tx.PruneCaptures(ctx, now.Add(-retention))
					return err
				})
				return n
			}
			now = now.Add(29 * 24 * time.Hour)
			if n := prune(30 * 24 * time.Hour); n != 0 {
				t.Errorf("pruned %d captures within the retention", n)
			}
			now = now.Add(2 * 24 * time.Hour)
			if n := prune(30 * 24 * time.Hour); n != 1 {
				t.Errorf("pruned %d captures past the retention, want 1", n)
			}
			if _, err := s.Capture(ctx, w.ID, "atk_1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the pruned capture is still there: %v", err)
			}
		})
	}
}
