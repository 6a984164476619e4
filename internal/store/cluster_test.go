package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// replicas opens n stores on one fresh PostgreSQL schema, as n replicas
// of serve would.
func replicas(t *testing.T, n int) []*store.Store {
	t.Helper()
	dsn := storetest.FreshSchema(t)
	var out []*store.Store
	for i := range n {
		s, err := store.OpenPostgres(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if i == 0 {
			if _, err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, s)
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestListenHearsOtherReplicas(t *testing.T) {
	rs := replicas(t, 2)
	a, b := rs[0], rs[1]
	revs := make(chan store.Revision, 10)
	outbox := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		b.Listen(ctx, func(r store.Revision) { revs <- r }, func() { outbox <- struct{}{} }, quiet)
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	w := &sw.Workspace{Slug: "acme", Name: "Acme"}
	// LISTEN takes a moment to register: commit until it is heard.
	deadline := time.Now().Add(10 * time.Second)
	mustTx(t, a, func(tx *store.Tx) error { return tx.CreateWorkspace(context.Background(), w) })
	for i := 0; ; i++ {
		mustTx(t, a, func(tx *store.Tx) error {
			return tx.CreateComponent(context.Background(), &sw.Component{WorkspaceID: w.ID, Name: "C", Slug: fmt.Sprintf("c-%d", i)})
		})
		select {
		case r := <-revs:
			if r.WorkspaceID != w.ID {
				// Another package's test commits on the same database
				// (go test runs packages side by side): not ours.
				continue
			}
			if r.Revision < 2 {
				t.Fatalf("heard %+v", r)
			}
			goto heard
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica never heard of the commit")
		}
	}
heard:
	// A rolled-back change tells nobody.
	_ = a.Tx(context.Background(), func(tx *store.Tx) error {
		_ = tx.CreateComponent(context.Background(), &sw.Component{WorkspaceID: w.ID, Name: "Gone", Slug: "gone"})
		return context.Canceled
	})
	// An incident writes the outbox: the other replica's sender wakes.
	for len(revs) > 0 {
		<-revs
	}
	mustTx(t, a, func(tx *store.Tx) error {
		return tx.CreateIncident(context.Background(), &sw.Incident{WorkspaceID: w.ID, Title: "DDoS"}, nil, "m", nil)
	})
	select {
	case <-outbox:
	case <-time.After(5 * time.Second):
		t.Fatal("the outbox write was not heard")
	}
	select {
	case r := <-revs:
		if r.WorkspaceID != w.ID {
			t.Errorf("heard %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the incident's page change was not heard")
	}
}

// TestLeadOneAtATime: of three replicas, one leads; when it stops, another
// takes over within seconds, and never do two lead at once.
func TestLeadOneAtATime(t *testing.T) {
	rs := replicas(t, 3)
	var leading, most atomic.Int32
	var leaders sync.Map
	cancels := make([]context.CancelFunc, len(rs))
	var wg sync.WaitGroup
	for i, s := range rs {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Go(func() {
			s.Lead(ctx, "timers", func(ctx context.Context) {
				n := leading.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				leaders.Store(i, true)
				<-ctx.Done()
				leaders.Delete(i)
				leading.Add(-1)
			}, quiet)
		})
	}
	t.Cleanup(func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	})
	current := func() int {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			found := -1
			leaders.Range(func(k, _ any) bool { found = k.(int); return false })
			if found >= 0 {
				return found
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("nobody leads")
		return -1
	}
	first := current()
	cancels[first]()
	start := time.Now()
	var second int
	for {
		second = current()
		if second != first {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica %d took over %v after replica %d stopped", second, time.Since(start).Round(time.Millisecond), first)
	time.Sleep(1500 * time.Millisecond)
	if m := most.Load(); m != 1 {
		t.Errorf("%d replicas led at once", m)
	}
}
