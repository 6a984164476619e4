package page

import (
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
)

// TestPublicViewHidesPrivateComponents: readers without access never
// learn a private component exists — not in the list, the groups, the
// incidents and windows about it, nor the Statuspage JSON.
func TestPublicViewHidesPrivateComponents(t *testing.T) {
	snap := &sw.Snapshot{
		Workspace: sw.Workspace{ID: "ws", Name: "Acme", Timezone: "UTC"},
		Groups:    []sw.Group{{ID: "g-int", Name: "Internal"}, {ID: "g-pub", Name: "Games"}},
		Components: []sw.Component{
			{ID: "c1", Slug: "eu-1", Name: "EU game 01", GroupID: "g-pub", Status: sw.Operational},
			{ID: "c2", Slug: "billing-db", Name: "Billing database", GroupID: "g-int", Status: sw.MajorOutage, Private: true},
			{ID: "c3", Slug: "crm", Name: "CRM backend", Status: sw.Operational, Private: true},
		},
		Incidents: []sw.Incident{
			{ID: "i1", Title: "Billing database down", Status: sw.Investigating, Impact: sw.ImpactCritical,
				Components: []sw.IncidentComponent{{ComponentID: "c2", Slug: "billing-db", Name: "Billing database", Status: sw.MajorOutage}}},
			{ID: "i2", Title: "Slow logins", Status: sw.Investigating, Impact: sw.ImpactMinor,
				Components: []sw.IncidentComponent{{ComponentID: "c1", Slug: "eu-1", Name: "EU game 01", Status: sw.DegradedPerformance},
					{ComponentID: "c3", Slug: "crm", Name: "CRM backend", Status: sw.DegradedPerformance}}},
		},
		Maintenances: []sw.Maintenance{{ID: "m1", Title: "Database upgrade", State: sw.MaintenanceScheduled, Components: []string{"billing-db"}}},
	}
	pub := PublicView(snap)
	if len(snap.Components) != 3 || len(snap.Incidents[1].Components) != 2 {
		t.Fatal("PublicView changed the snapshot it was given")
	}
	for _, path := range []string{"/", "/history", "/api/v2/summary.json", "/api/v2/components.json", "/feed.xml"} {
		res, err := Render(pub, site, path)
		if err != nil {
			t.Fatal(err)
		}
		body := string(res.Body)
		for _, secret := range []string{"Billing", "billing-db", "CRM", "Internal", "Database upgrade"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q to a reader without access", path, secret)
			}
		}
		if path != "/feed.xml" && !strings.Contains(body, "EU game 01") {
			t.Errorf("%s lost the public component", path)
		}
	}
	if len(pub.Incidents) != 1 || pub.Incidents[0].ID != "i2" || len(pub.Incidents[0].Components) != 1 {
		t.Errorf("incidents in the public view: %+v", pub.Incidents)
	}
	if o := Overall(pub); o.Indicator != "minor" {
		t.Errorf("the public banner follows what is hidden: %+v", o)
	}
	none := &sw.Snapshot{Components: []sw.Component{{ID: "c1"}}}
	if PublicView(none) != none {
		t.Error("a snapshot without private components was copied")
	}
}
