package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// benchSite is a workspace as a busy operator has it: 40 components, 10
// nodes with 15 minutes of heartbeats every 5 s, 5 open incidents.
func benchSite(b *testing.B) (*site, *browser) {
	st := storetest.Open(b, store.SQLite)
	s := newSite(b, st)
	owner := s.setUp()
	ctx := context.Background()
	ws, _ := st.WorkspaceBySlug(ctx, "acme")
	err := st.Tx(ctx, func(tx *store.Tx) error {
		for i := range 40 {
			if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws.ID, Name: fmt.Sprintf("Cluster %02d", i), Slug: fmt.Sprintf("cluster-%02d", i)}); err != nil {
				return err
			}
		}
		for i := range 5 {
			inc := &sw.Incident{WorkspaceID: ws.ID, Title: fmt.Sprintf("Attack %d", i), Impact: sw.ImpactMajor, Source: sw.SourceManual}
			if err := tx.CreateIncident(ctx, inc, []store.ComponentChange{{Ref: fmt.Sprintf("cluster-%02d", i), Status: sw.PartialOutage}}, "Mitigating.", nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for n := range 10 {
		var node *sw.Node
		_ = st.Tx(ctx, func(tx *store.Tx) error {
			node = &sw.Node{WorkspaceID: ws.ID, Name: fmt.Sprintf("edge-%d", n)}
			_, err := tx.CreateNode(ctx, node, []string{"cluster-00"})
			return err
		})
		for i := range 180 {
			if err := st.Tx(ctx, func(tx *store.Tx) error {
				return tx.RecordHeartbeat(ctx, ws.ID, node.ID, &sw.Heartbeat{PPS: uint64(1000 + i), BPS: uint64(8e6 + i)})
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s, owner
}

func benchPage(b *testing.B, owner *browser, path string) {
	b.ReportAllocs()
	for b.Loop() {
		if code, _ := owner.get(path); code != http.StatusOK {
			b.Fatalf("%s answered %d", path, code)
		}
	}
}

// BenchmarkDashboardOverview is the busiest screen: every list of the
// workspace and each node's traffic history, as HTML.
func BenchmarkDashboardOverview(b *testing.B) {
	_, owner := benchSite(b)
	benchPage(b, owner, "/admin/w/acme/")
}

// BenchmarkDashboardBaseline is the same stack (session, membership,
// layout) for the lightest screen: the ratio is what the overview's own
// queries and rendering cost.
func BenchmarkDashboardBaseline(b *testing.B) {
	_, owner := benchSite(b)
	benchPage(b, owner, "/admin/w/acme/settings")
}
