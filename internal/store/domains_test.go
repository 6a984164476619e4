package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestVerifiedDomainGrace: a verified domain whose checks fail is served
// through DomainGrace, then unverified (audited, admins told); a passing
// check in between clears the failure.
func TestVerifiedDomainGrace(t *testing.T) {
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	at := func(d time.Duration) { clock.Store(start.Add(d).UnixNano()) }
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		at(0)
		ctx := context.Background()
		w := newWorkspace(t, s, "acme")
		var d *store.Domain
		mustTx(t, s, func(tx *store.Tx) error {
			var err error
			d, err = tx.CreateDomain(ctx, w.ID, "status.example.com")
			return err
		})
		check := func(by, problem string) bool {
			t.Helper()
			var gone bool
			mustTx(t, s, func(tx *store.Tx) error {
				var err error
				gone, err = tx.RecordDomainCheck(ctx, w.ID, d.ID, by, problem)
				return err
			})
			return gone
		}
		served := func() bool {
			_, err := s.WorkspaceIDByDomain(ctx, "status.example.com")
			return err == nil
		}
		if check("", "no DNS record yet") || served() {
			t.Fatal("an unverified domain is served")
		}
		check("cname", "")
		if !served() {
			t.Fatal("a verified domain is not served")
		}
		// A verified domain is due again after six hours, not before.
		now := start
		if due, _ := s.DomainsToCheck(ctx, now.Add(-time.Minute), now.Add(-6*time.Hour), 10); len(due) != 0 {
			t.Errorf("%d domains due right after a check", len(due))
		}
		if due, _ := s.DomainsToCheck(ctx, now.Add(7*time.Hour-time.Minute), now.Add(time.Hour), 10); len(due) != 1 {
			t.Errorf("%d domains due hours later, want 1", len(due))
		}
		// Failing for a day, then passing: the failure is forgotten.
		at(time.Hour)
		check("", "points at elsewhere.example")
		at(25 * time.Hour)
		check("", "points at elsewhere.example")
		check("cname", "")
		// Failing again: served through the grace, then no longer.
		for _, step := range []struct {
			after time.Duration
			gone  bool
		}{{30 * time.Hour, false}, {30*time.Hour + store.DomainGrace - time.Minute, false}, {30*time.Hour + store.DomainGrace, true}} {
			at(step.after)
			if gone := check("", "points at elsewhere.example"); gone != step.gone || served() == step.gone {
				t.Fatalf("after %v of failing: unverified %v, served %v", step.after-30*time.Hour, gone, served())
			}
		}
		log, _, _ := s.AuditLog(ctx, w.ID, store.Page{Limit: 10})
		if len(log) == 0 || log[0].Action != "domain.unverified" {
			t.Errorf("audit log: %+v", log)
		}
		notices, _ := s.PendingNotices(ctx, w.ID)
		if len(notices) != 1 || notices[0].Subject != "status.example.com is no longer served" {
			t.Errorf("notices: %+v", notices)
		}
	}, store.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
}
