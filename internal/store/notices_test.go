package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// A notice that keeps being raised (a certificate failing at every
// retry) is queued once a day.
func TestNoticeOnce(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			s := storetest.Open(t, d, store.WithClock(func() time.Time { return now }))
			w := newWorkspace(t, s, "acme")
			ctx := context.Background()
			raise := func() {
				mustTx(t, s, func(tx *store.Tx) error {
					return tx.NoticeOnce(ctx, w.ID, "certificate.failed", "No HTTPS certificate for status.acme.test", "…", now.Add(-24*time.Hour))
				})
			}
			count := func() int {
				n, err := s.PendingNotices(ctx, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				return len(n)
			}
			raise()
			now = now.Add(time.Hour)
			raise()
			if n := count(); n != 1 {
				t.Fatalf("%d notices after two failures an hour apart, want 1", n)
			}
			now = now.Add(25 * time.Hour)
			raise()
			if n := count(); n != 2 {
				t.Fatalf("%d notices a day later, want 2", n)
			}
		})
	}
}
