// Command seed fills a stormwatch database with a realistic status page for
// load tests and screenshots: two groups of game clusters plus web
// services, 90 days of incidents (so the uptime bars and history have
// content), an active attack incident with three updates and an upcoming
// maintenance window. It prints the workspace's API key.
//
//	go run ./bench/seed --data-dir /tmp/bench --slug acme
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

func main() {
	dataDir := flag.String("data-dir", "./data", "directory of the SQLite database")
	dsn := flag.String("database-url", "", "PostgreSQL DSN instead of SQLite")
	slug := flag.String("slug", "acme", "workspace slug")
	components := flag.Int("components", 9, "components in all: past the nine of the standard page, more in groups of 50 (a hosting provider listing its servers)")
	flag.Parse()
	if err := run(*dataDir, *dsn, *slug, *components); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(dataDir, dsn, slug string, components int) error {
	ctx := context.Background()
	clock := time.Now().UTC()
	now := func() time.Time { return clock }
	var st *store.Store
	var err error
	if dsn != "" {
		st, err = store.OpenPostgres(dsn, store.WithClock(now))
	} else {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return err
		}
		st, err = store.OpenSQLite(dataDir+"/stormwatch.db", store.WithClock(now))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	real := clock
	clock = real.AddDate(0, 0, -100)

	var ws, key string
	err = st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: slug, Name: "Acme Games", Timezone: "Europe/Berlin",
			Branding: sw.Branding{BrandColor: "#8250df", FooterLinks: []sw.FooterLink{{Label: "Support", URL: "https://acme.example/support"}}}}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		ws = w.ID
		_, k, err := tx.CreateAPIKey(ctx, ws, "bench", sw.RoleOwner)
		key = k
		if err != nil {
			return err
		}
		for gi, group := range []string{"US-East", "EU-West"} {
			g := &sw.Group{WorkspaceID: ws, Name: group, Position: gi + 1}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			for n := 1; n <= 3; n++ {
				c := &sw.Component{WorkspaceID: ws, GroupID: g.ID, Name: fmt.Sprintf("%s game %02d", group, n),
					Slug: fmt.Sprintf("%s-game-%02d", sw.Slugify(group), n), Position: n}
				if err := tx.CreateComponent(ctx, c); err != nil {
					return err
				}
			}
		}
		for i, name := range []string{"Website", "Login", "Matchmaking API"} {
			c := &sw.Component{WorkspaceID: ws, Name: name, Slug: sw.Slugify(name), Position: i - 3,
				Description: "Public " + name + " service"}
			if err := tx.CreateComponent(ctx, c); err != nil {
				return err
			}
		}
		var g *sw.Group
		for n := 9; n < components; n++ {
			if (n-9)%50 == 0 {
				g = &sw.Group{WorkspaceID: ws, Name: fmt.Sprintf("Region %02d", (n-9)/50+1), Position: 10 + (n-9)/50}
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
			}
			c := &sw.Component{WorkspaceID: ws, GroupID: g.ID, Name: fmt.Sprintf("%s server %02d", g.Name, (n-9)%50+1),
				Slug: fmt.Sprintf("%s-server-%02d", sw.Slugify(g.Name), (n-9)%50+1), Position: n}
			if err := tx.CreateComponent(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	// 90 days of past attacks: every ninth day, 40 minutes to 3 hours.
	targets := []string{"us-east-game-01", "eu-west-game-02", "website", "matchmaking-api", "us-east-game-03"}
	for day, n := 88, 0; day > 1; day, n = day-9, n+1 {
		clock = real.AddDate(0, 0, -day).Add(time.Duration(n%5) * time.Hour)
		target := targets[n%len(targets)]
		status := []sw.ComponentStatus{sw.PartialOutage, sw.MajorOutage, sw.DegradedPerformance}[n%3]
		var id string
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			inc := &sw.Incident{WorkspaceID: ws, Title: fmt.Sprintf("DDoS attack on %s", target), Source: sw.SourceAuto}
			err := tx.CreateIncident(ctx, inc, []store.ComponentChange{{Ref: target, Status: status}},
				"We detected a traffic flood and are mitigating it.", nil)
			id = inc.ID
			return err
		}); err != nil {
			return err
		}
		clock = clock.Add(time.Duration(40+n*15) * time.Minute)
		resolved, msg := sw.Resolved, "Traffic is back to normal."
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.EditIncident(ctx, ws, id, store.IncidentEdit{Status: &resolved, Message: &msg})
			return err
		}); err != nil {
			return err
		}
	}

	// The attack going on now, with three updates.
	clock = real.Add(-25 * time.Minute)
	var active string
	if err := st.Tx(ctx, func(tx *store.Tx) error {
		inc := &sw.Incident{WorkspaceID: ws, Title: "DDoS attack detected on US-East cluster", Source: sw.SourceAuto, Severity: sw.SeverityHigh}
		err := tx.CreateIncident(ctx, inc, []store.ComponentChange{{Ref: "us-east-game-01", Status: sw.PartialOutage},
			{Ref: "us-east-game-02", Status: sw.DegradedPerformance}}, "We detected a UDP flood against the US-East cluster and are investigating.", nil)
		active = inc.ID
		return err
	}); err != nil {
		return err
	}
	for i, step := range []struct {
		status sw.IncidentStatus
		msg    string
	}{{sw.Identified, "Mitigation engaged: the flood is filtered upstream."}, {sw.Monitoring, "The attack is subsiding; traffic is close to normal."}} {
		clock = real.Add(time.Duration(-20+i*10) * time.Minute)
		st2, msg := step.status, step.msg
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.EditIncident(ctx, ws, active, store.IncidentEdit{Status: &st2, Message: &msg})
			return err
		}); err != nil {
			return err
		}
	}
	clock = real.Add(-time.Hour)
	if err := st.Tx(ctx, func(tx *store.Tx) error {
		m := &sw.Maintenance{WorkspaceID: ws, Title: "Router firmware upgrade", Message: "Short interruptions are possible.",
			StartsAt: real.Add(48 * time.Hour), EndsAt: real.Add(50 * time.Hour), Remind24h: true}
		return tx.CreateMaintenance(ctx, m, []string{"eu-west-game-01", "eu-west-game-02"})
	}); err != nil {
		return err
	}
	fmt.Println(key)
	return nil
}
