package web

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// slowRenders is the real store whose page reads take as long as a busy
// machine makes them.
type slowRenders struct {
	*store.Store
	delay atomic.Int64
}

func (s *slowRenders) Snapshot(ctx context.Context, ws string, since, now time.Time) (*sw.Snapshot, error) {
	time.Sleep(time.Duration(s.delay.Load()))
	return s.Store.Snapshot(ctx, ws, since, now)
}

// TestSlowRenderServesThePreviousPage: while a new revision renders
// slowly, visitors get the previous page after staleWait instead of
// waiting; a live page that asks for the new revision waits for it.
func TestSlowRenderServesThePreviousPage(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	hub := live.NewHub()
	st.OnCommit(func(r store.Revision) { hub.Publish(r.WorkspaceID, r.Revision) })
	slow := &slowRenders{Store: st}
	c := newPageCache(slow, hub, time.Now)
	w := &sw.Workspace{Slug: "acme", Name: "Acme"}
	mustTx := func(fn func(tx *store.Tx) error) {
		if err := st.Tx(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	mustTx(func(tx *store.Tx) error { return tx.CreateWorkspace(context.Background(), w) })
	site := page.Site{RootURL: "http://status.test/s/acme"}
	first, err := c.rendering(context.Background(), w.ID, site, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustTx(func(tx *store.Tx) error {
		return tx.CreateComponent(context.Background(), &sw.Component{WorkspaceID: w.ID, Name: "Edge", Slug: "edge"})
	})
	slow.delay.Store(int64(time.Second))
	start := time.Now()
	got, err := c.rendering(context.Background(), w.ID, site, 0)
	if err != nil || got != first || time.Since(start) > 600*time.Millisecond {
		t.Fatalf("a visitor waited %v for %v (previous %v)", time.Since(start), got.rev, first.rev)
	}
	start = time.Now()
	got, err = c.rendering(context.Background(), w.ID, site, first.rev+1)
	if err != nil || got.rev <= first.rev {
		t.Fatalf("a live page asking for the new revision got %d, %v", got.rev, err)
	}
	t.Logf("the live page waited %v for the slow render", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(string(mustFile(t, got, "/").body), "Edge") {
		t.Error("the new rendering lacks the new component")
	}
	// The slow build landed in the cache: visitors now get it at once.
	if again, _ := c.rendering(context.Background(), w.ID, site, 0); again.rev != got.rev {
		t.Errorf("visitors still get revision %d", again.rev)
	}
}

func mustFile(t *testing.T, r *rendering, path string) *file {
	t.Helper()
	f, err := r.file(path, variant{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
