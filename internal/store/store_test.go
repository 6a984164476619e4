package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var ctx = context.Background()

func mustTx(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.Tx(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func newWorkspace(t *testing.T, s *store.Store, slug string) *sw.Workspace {
	t.Helper()
	w := &sw.Workspace{Slug: slug, Name: "Workspace " + slug}
	mustTx(t, s, func(tx *store.Tx) error { return tx.CreateWorkspace(ctx, w) })
	return w
}

func newComponent(t *testing.T, s *store.Store, ws, slug string) *sw.Component {
	t.Helper()
	c := &sw.Component{WorkspaceID: ws, Slug: slug, Name: slug}
	mustTx(t, s, func(tx *store.Tx) error { return tx.CreateComponent(ctx, c) })
	return c
}

func status(t *testing.T, s *store.Store, ws, ref string) sw.ComponentStatus {
	t.Helper()
	c, err := s.Component(ctx, ws, ref)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func TestMigrate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		applied, err := s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, err %v; want nothing", applied, err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != store.LatestVersion() || v == 0 {
			t.Fatalf("schema version %d (err %v), want %d", v, err, store.LatestVersion())
		}
	})
}

func TestWorkspacesAndKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateWorkspace(ctx, &sw.Workspace{Slug: "acme", Name: "Again"}) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate slug: err = %v, want ErrConflict", err)
		}
		got, err := s.WorkspaceBySlug(ctx, "acme")
		if err != nil || got.ID != w.ID || got.Revision != 1 || got.Timezone != "UTC" {
			t.Fatalf("WorkspaceBySlug = %+v, %v", got, err)
		}

		var key *sw.APIKey
		var token string
		mustTx(t, s, func(tx *store.Tx) error {
			var err error
			key, token, err = tx.CreateAPIKey(ctx, w.ID, "ci", sw.RoleAdmin)
			return err
		})
		found, err := s.APIKeyByToken(ctx, token)
		if err != nil || found.ID != key.ID || found.WorkspaceID != w.ID || found.Role != sw.RoleAdmin {
			t.Fatalf("APIKeyByToken = %+v, %v", found, err)
		}
		if _, err := s.APIKeyByToken(ctx, key.Prefix); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("lookup by visible prefix: err = %v, want ErrNotFound", err)
		}
		other := newWorkspace(t, s, "other")
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, other.ID, key.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke from another workspace: err = %v, want ErrNotFound", err)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, w.ID, key.ID) })
		if _, err := s.APIKeyByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked key still works: %v", err)
		}
	})
}

func TestComponentsAreScopedAndVersioned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a, b := newWorkspace(t, s, "a"), newWorkspace(t, s, "b")
		ca := newComponent(t, s, a.ID, "api")
		newComponent(t, s, b.ID, "api") // same slug, other workspace: fine
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateComponent(ctx, &sw.Component{WorkspaceID: a.ID, Slug: "api", Name: "x"})
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate slug: %v", err)
		}
		if _, err := s.Component(ctx, b.ID, ca.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("component of a seen from b: %v", err)
		}
		gb := &sw.Group{WorkspaceID: b.ID, Name: "B group"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateGroup(ctx, gb) })
		ca.GroupID = gb.ID
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateComponent(ctx, ca) })
		var verr *sw.ValidationError
		if !errors.As(err, &verr) || verr.Field != "group_id" {
			t.Fatalf("group of another workspace: err = %v, want validation error on group_id", err)
		}

		before, _ := s.Workspace(ctx, a.ID)
		ca.GroupID = ""
		ca.Status = sw.PartialOutage
		mustTx(t, s, func(tx *store.Tx) error { return tx.UpdateComponent(ctx, ca) })
		after, _ := s.Workspace(ctx, a.ID)
		if after.Revision != before.Revision+1 {
			t.Fatalf("revision %d -> %d, want +1", before.Revision, after.Revision)
		}
		hist, err := s.StatusHistory(ctx, a.ID, ca.ID)
		if err != nil || len(hist) != 2 || hist[0].Status != sw.Operational || hist[1].Status != sw.PartialOutage {
			t.Fatalf("history = %+v, %v", hist, err)
		}
	})
}

func TestTxRollsBackAndBumpsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var revs []store.Revision
		s.OnCommit(func(r store.Revision) { revs = append(revs, r) })
		w := newWorkspace(t, s, "acme")
		boom := errors.New("boom")
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: w.ID, Slug: "lost", Name: "Lost"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := s.Component(ctx, w.ID, "lost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled back component exists: %v", err)
		}
		if len(revs) != 0 {
			t.Fatalf("rolled back tx announced revisions %v", revs)
		}
		mustTx(t, s, func(tx *store.Tx) error {
			for _, slug := range []string{"one", "two", "three"} {
				if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: w.ID, Slug: slug, Name: slug}); err != nil {
					return err
				}
			}
			return nil
		})
		if len(revs) != 1 || revs[0].WorkspaceID != w.ID || revs[0].Revision != 2 {
			t.Fatalf("revisions = %+v, want one bump to 2", revs)
		}
	})
}

func TestIncidentLifecycleDrivesComponentStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		newComponent(t, s, w.ID, "game-01")
		newComponent(t, s, w.ID, "game-02")

		first := &sw.Incident{WorkspaceID: w.ID, Title: "DDoS on US-East"}
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.CreateIncident(ctx, first, []store.ComponentChange{{"game-01", sw.PartialOutage}, {"game-02", sw.DegradedPerformance}}, "Mitigating.", nil)
		})
		if first.Impact != sw.ImpactMajor || first.Severity != sw.SeverityHigh || first.Status != sw.Investigating || first.Source != sw.SourceManual {
			t.Fatalf("derived fields: %+v", first)
		}
		if !sw.HasPrefix(first.ID, sw.PrefixIncident) || len(first.Updates) != 1 || len(first.Components) != 2 {
			t.Fatalf("created incident: %+v", first)
		}
		if got := first.Slugs(); got[0] != "game-01" || got[1] != "game-02" {
			t.Fatalf("slugs = %v", got)
		}

		second := &sw.Incident{WorkspaceID: w.ID, Title: "Second", Impact: sw.ImpactCritical}
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.CreateIncident(ctx, second, []store.ComponentChange{{"game-01", sw.MajorOutage}}, "", nil)
		})
		if got := status(t, s, w.ID, "game-01"); got != sw.MajorOutage {
			t.Fatalf("game-01 = %s, want major_outage (worst of two incidents)", got)
		}

		resolved := sw.Resolved
		msg := "Fixed."
		mustTx(t, s, func(tx *store.Tx) error {
			_, err := tx.EditIncident(ctx, w.ID, second.ID, store.IncidentEdit{Status: &resolved, Message: &msg})
			return err
		})
		if got := status(t, s, w.ID, "game-01"); got != sw.PartialOutage {
			t.Fatalf("after resolving second: game-01 = %s, want partial_outage from the first", got)
		}
		got, err := s.Incident(ctx, w.ID, second.ID)
		if err != nil || got.ResolvedAt == nil || len(got.Updates) != 2 || got.Updates[0].Message != "Fixed." {
			t.Fatalf("resolved incident = %+v, %v", got, err)
		}

		// Operational removes a component from the incident.
		mustTx(t, s, func(tx *store.Tx) error {
			_, err := tx.EditIncident(ctx, w.ID, first.ID, store.IncidentEdit{Changes: []store.ComponentChange{{"game-02", sw.Operational}}})
			return err
		})
		if got := status(t, s, w.ID, "game-02"); got != sw.Operational {
			t.Fatalf("game-02 = %s, want operational", got)
		}
		open, _, err := s.Incidents(ctx, w.ID, store.IncidentFilter{Unresolved: true}, store.Page{})
		if err != nil || len(open) != 1 || open[0].ID != first.ID || len(open[0].Components) != 1 {
			t.Fatalf("unresolved = %+v, %v", open, err)
		}

		bad := sw.IncidentStatus("fixed")
		err = s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.EditIncident(ctx, w.ID, first.ID, store.IncidentEdit{Status: &bad})
			return err
		})
		var verr *sw.ValidationError
		if !errors.As(err, &verr) || verr.Field != "status" {
			t.Fatalf("bad status: %v", err)
		}
		other := newWorkspace(t, s, "other")
		if _, err := s.Incident(ctx, other.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("incident seen from another workspace: %v", err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateIncident(ctx, &sw.Incident{WorkspaceID: other.ID, Title: "x"}, []store.ComponentChange{{"game-01", sw.MajorOutage}}, "", nil)
		})
		if !errors.As(err, &verr) || verr.Field != "components[0]" {
			t.Fatalf("component of another workspace: %v", err)
		}
	})
}

func TestMaintenanceAndIncidentOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		newComponent(t, s, w.ID, "db")
		start := time.Date(2026, 6, 7, 2, 0, 0, 0, time.UTC)
		m := &sw.Maintenance{WorkspaceID: w.ID, Title: "Upgrade", StartsAt: start, EndsAt: start.Add(time.Hour)}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateMaintenance(ctx, m, []string{"db"}) })
		if got := status(t, s, w.ID, "db"); got != sw.Operational {
			t.Fatalf("scheduled window changed status to %s", got)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.SetMaintenanceState(ctx, w.ID, m.ID, sw.MaintenanceInProgress) })
		if got := status(t, s, w.ID, "db"); got != sw.UnderMaintenance {
			t.Fatalf("in progress: db = %s", got)
		}
		inc := &sw.Incident{WorkspaceID: w.ID, Title: "Attack during maintenance"}
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.CreateIncident(ctx, inc, []store.ComponentChange{{"db", sw.PartialOutage}}, "", nil)
		})
		if got := status(t, s, w.ID, "db"); got != sw.PartialOutage {
			t.Fatalf("incident during maintenance: db = %s, want the worse partial_outage", got)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.SetMaintenanceState(ctx, w.ID, m.ID, sw.MaintenanceCompleted) })
		if got := status(t, s, w.ID, "db"); got != sw.PartialOutage {
			t.Fatalf("window ended: db = %s, want the incident's partial_outage", got)
		}
		got, err := s.Maintenance(ctx, w.ID, m.ID)
		if err != nil || got.StartedAt == nil || got.CompletedAt == nil || got.Components[0] != "db" {
			t.Fatalf("maintenance = %+v, %v", got, err)
		}
		bad := &sw.Maintenance{WorkspaceID: w.ID, Title: "Backwards", StartsAt: start, EndsAt: start}
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateMaintenance(ctx, bad, nil) })
		var verr *sw.ValidationError
		if !errors.As(err, &verr) || verr.Field != "ends_at" {
			t.Fatalf("ends before start: %v", err)
		}
	})
}

func TestNodesAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		newComponent(t, s, w.ID, "edge")
		n := &sw.Node{WorkspaceID: w.ID, Name: "edge-1"}
		var token string
		mustTx(t, s, func(tx *store.Tx) error {
			var err error
			token, err = tx.CreateNode(ctx, n, []string{"edge"})
			return err
		})
		found, err := s.NodeByToken(ctx, token)
		if err != nil || found.ID != n.ID || found.WorkspaceID != w.ID {
			t.Fatalf("NodeByToken = %+v, %v", found, err)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.RecordHeartbeat(ctx, w.ID, n.ID, &sw.Heartbeat{PPS: 10}) })
		var fresh string
		mustTx(t, s, func(tx *store.Tx) error {
			var err error
			fresh, err = tx.RotateNodeToken(ctx, w.ID, n.ID)
			return err
		})
		if _, err := s.NodeByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old token still works: %v", err)
		}
		got, err := s.NodeByToken(ctx, fresh)
		if err != nil {
			t.Fatal(err)
		}
		full, err := s.Node(ctx, w.ID, got.ID)
		var hb sw.Heartbeat
		if err != nil || len(full.Components) != 1 || full.Components[0] != "edge" || full.LastHeartbeatAt == nil ||
			json.Unmarshal(full.LastHeartbeat, &hb) != nil || hb.PPS != 10 {
			t.Fatalf("node = %+v, %v", full, err)
		}
		// The heartbeat joined the node's traffic history.
		traffic, err := s.Traffic(ctx, w.ID, time.Now().Add(-time.Minute))
		if err != nil || len(traffic[got.ID]) != 1 || traffic[got.ID][0].PPS != 10 {
			t.Fatalf("traffic = %+v, %v", traffic, err)
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		for _, slug := range []string{"c1", "c2", "c3", "c4", "c5"} {
			newComponent(t, s, w.ID, slug)
		}
		var seen []string
		for off := 0; ; off += 2 {
			page, more, err := s.Components(ctx, w.ID, store.Page{Limit: 2, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				seen = append(seen, c.Slug)
			}
			if !more {
				break
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %v, want 5 components once each", seen)
		}
	})
}

func TestAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorkspace(t, s, "acme")
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.Audit(ctx, w.ID, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorAPIKey, ID: "key_1"}, Action: "component.create",
				TargetType: "component", TargetID: "cmp_1", Details: []byte(`{"slug":"x"}`)})
		})
		log, _, err := s.AuditLog(ctx, w.ID, store.Page{})
		if err != nil || len(log) != 1 || log[0].Action != "component.create" || string(log[0].Details) != `{"slug":"x"}` {
			t.Fatalf("audit log = %+v, %v", log, err)
		}
		other := newWorkspace(t, s, "other")
		if log, _, _ := s.AuditLog(ctx, other.ID, store.Page{}); len(log) != 0 {
			t.Fatalf("other workspace sees %d entries", len(log))
		}
	})
}

// TestConfirmationMailsAreCappedPerAddress: one address subscribed to
// five workspaces in an hour is sent three double opt-in mails, not five;
// the subscribers are kept, unconfirmed.
func TestConfirmationMailsAreCappedPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, slug := range []string{"a", "b", "c", "d", "e"} {
			w := newWorkspace(t, s, slug)
			mustTx(t, s, func(tx *store.Tx) error {
				return tx.CreateSubscriber(ctx, &sw.Subscriber{WorkspaceID: w.ID, Type: sw.SubscriberEmail, Email: "victim@example.com",
					MinImpact: sw.ImpactNone}, "", nil)
			})
			if _, err := s.SubscriberByEmail(ctx, w.ID, "victim@example.com"); err != nil {
				t.Fatalf("workspace %s lost the subscriber: %v", slug, err)
			}
		}
		events, err := s.PendingEvents(ctx, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != store.MaxConfirmationsPerHour {
			t.Fatalf("%d confirmation mails queued, want %d", len(events), store.MaxConfirmationsPerHour)
		}
	})
}
