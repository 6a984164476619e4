// Command checkseed adds checks to a stormwatch database for load tests,
// and reads back how many runs they recorded.
//
//	go run ./bench/checkseed --data-dir /tmp/bench --slug bench --checks 10000 --target 127.0.0.1:18086
//	go run ./bench/checkseed --data-dir /tmp/bench --runs-since 2026-11-28T13:00:00Z
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
	slug := flag.String("slug", "bench", "workspace slug (it must exist)")
	n := flag.Int("checks", 10000, "server-run TCP checks to add")
	target := flag.String("target", "127.0.0.1:8080", "host:port the checks connect to")
	interval := flag.Duration("interval", 30*time.Second, "interval of each check")
	since := flag.String("runs-since", "", "print the runs recorded since this RFC 3339 time instead of adding checks")
	flag.Parse()
	if err := run(*dataDir, *slug, *n, *target, *interval, *since); err != nil {
		fmt.Fprintln(os.Stderr, "checkseed:", err)
		os.Exit(1)
	}
}

func run(dataDir, slug string, n int, target string, interval time.Duration, since string) error {
	ctx := context.Background()
	st, err := store.OpenSQLite(dataDir + "/stormwatch.db")
	if err != nil {
		return err
	}
	defer st.Close()
	w, err := st.WorkspaceBySlug(ctx, slug)
	if err != nil {
		return err
	}
	if since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return err
		}
		checks, err := st.ServerChecks(ctx)
		if err != nil {
			return err
		}
		runs := 0
		for _, k := range checks {
			buckets, err := st.Latency(ctx, k.ID, t.Add(-10*time.Minute))
			if err != nil {
				return err
			}
			for _, b := range buckets {
				runs += b.Runs
			}
		}
		fmt.Println(runs)
		return nil
	}
	return st.Tx(ctx, func(tx *store.Tx) error {
		c := &sw.Component{WorkspaceID: w.ID, Slug: "checked", Name: "Checked"}
		if err := tx.CreateComponent(ctx, c); err != nil {
			return err
		}
		for i := range n {
			k := &sw.Check{WorkspaceID: w.ID, Component: "checked", Name: fmt.Sprintf("tcp %05d", i), Type: sw.CheckTCP,
				Target: target, Interval: sw.Duration(interval), Timeout: sw.Duration(5 * time.Second)}
			k.Defaults()
			if err := k.Validate(); err != nil {
				return err
			}
			if err := tx.CreateCheck(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}
