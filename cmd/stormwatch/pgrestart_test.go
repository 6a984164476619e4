package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// privatePostgres is a PostgreSQL server of this test alone, so that it
// can be restarted without disturbing the tests that share the machine's.
type privatePostgres struct {
	bin, dir, port string
	asUser         []string // runs commands as the postgres user when we are root
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		storetest.RequireReal(t, "PostgreSQL server binaries (apt-get install postgresql)")
	}
	p := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1])}
	if os.Geteuid() == 0 {
		// The server refuses to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			storetest.RequireReal(t, "a postgres user to run a private server as")
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp("/tmp", "stormwatch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.dir = filepath.Join(dir, "data")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(freePort(t), ":")
	p.port = port
	p.run(t, "initdb", "-D", p.dir, "--auth=trust", "-U", "postgres", "--no-sync")
	// -l keeps the server's output off our pipe (which would never close).
	p.run(t, "pg_ctl", "-D", p.dir, "-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir), "-l", filepath.Join(dir, "log"), "-w", "start")
	t.Cleanup(func() { _, _ = p.command("pg_ctl", "-D", p.dir, "-m", "immediate", "stop").CombinedOutput() })
	return p
}

// command runs one of the server's tools, as the postgres user when we
// are root.
func (p *privatePostgres) command(tool string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, tool)
	if len(p.asUser) > 0 {
		return exec.Command(p.asUser[0], append(append(append([]string{}, p.asUser[1:]...), path), args...)...)
	}
	return exec.Command(path, args...)
}

func (p *privatePostgres) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := p.command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

func (p *privatePostgres) dsn() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// TestDatabaseRestart: PostgreSQL restarts under a running replica; the
// replica resumes by itself — ready again, accepting changes, telling
// subscribers, leading its timers — without being restarted.
func TestDatabaseRestart(t *testing.T) {
	pg := startPrivatePostgres(t)
	db, key := acmeOn(t, "--database-url", pg.dsn())
	s := startServe(t, append(db, "--base-url", "http://127.0.0.1:0", "--allow-private-webhooks", "--webhook-timeout", "1s")...)
	hooks := newHookLog(t)
	if code, out := call(t, "POST", s.url+"/api/v1/subscribers", key, `{"type":"webhook","url":"`+hooks.srv.URL+`/a"}`); code != 201 {
		t.Fatalf("subscribe: %d %v", code, out)
	}
	replicaOf(t, []*server{s}, -1)

	// The log file keeps the restarted server off our output pipe.
	pg.run(t, "pg_ctl", "-D", pg.dir, "-l", filepath.Join(filepath.Dir(pg.dir), "log"), "-m", "fast", "-w", "restart")
	restarted := time.Now()

	// Changes are accepted again soon, without touching the replica.
	var inc map[string]any
	for {
		code, out := call(t, "POST", s.url+"/api/v1/incidents", key, `{"title":"After the restart","impact":"minor","message":"m"}`)
		if code == 201 {
			inc = out
			break
		}
		if time.Since(restarted) > 20*time.Second {
			t.Fatalf("no change accepted 20 s after the database restart: %d %v\n%s", code, out, s.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("changes accepted again %v after the restart", time.Since(restarted).Round(time.Millisecond))
	if code, body := get(t, s.url+"/readyz"); code != 200 {
		t.Errorf("readyz %d after the restart: %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for hooks.distinct("incident.created", inc["id"].(string)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if hooks.distinct("incident.created", inc["id"].(string)) != 1 {
		t.Errorf("the subscriber was not told of the incident made after the restart")
	}
	// Leadership came back: a timer set after the restart fires.
	start := time.Now().UTC().Add(2 * time.Second).Truncate(time.Second)
	code, m := call(t, "POST", s.url+"/api/v1/maintenances", key, fmt.Sprintf(`{"title":"Upgrade","starts_at":%q,"ends_at":%q,"remind_24h":false,"remind_1h":false}`,
		start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
	if code != 201 {
		t.Fatalf("maintenance: %d %v", code, m)
	}
	for time.Now().Before(start.Add(20 * time.Second)) {
		_, got := call(t, "GET", s.url+"/api/v1/maintenances/"+m["id"].(string), key, "")
		if got["state"] == "in_progress" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the maintenance window never started after the restart:\n%s", s.stderr)
}
