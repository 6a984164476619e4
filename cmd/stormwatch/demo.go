package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/agent"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/store"
)

func runDemo(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "stormwatch demo [flags]", `
Runs a complete stormwatch on a throw-away embedded database: a workspace
with components and a node, a server, and an agent that replays a DNS
amplification attack it generates. Watch the status page while the attack
is detected, the incident published, updated and resolved, with nobody
logging in. The page stays up after the attack until Ctrl-C.`, `
  stormwatch demo
  stormwatch demo --addr 127.0.0.1:9090 --replay-speed 2x`, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` of the demo server")
	speed := fs.String("replay-speed", "1x", "`speed` of the attack replay: 1x is real time (about a minute in all)")
	resolve := fs.Duration("resolve-after", 20*time.Second, "normal traffic this long after the attack resolves the incident")
	exit := fs.Bool("exit-when-done", false, "stop once the incident is resolved (for scripts and tests)")
	var logc config.Log
	logc.Register(fs)
	if err := fs.Set("log-level", "warn"); err != nil {
		return err
	}
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	sp, err := parseSpeed(*speed)
	if err != nil {
		return err
	}
	if err := logc.Validate(); err != nil {
		return err
	}
	log := logc.Logger(os.Stderr)
	dir, err := os.MkdirTemp("", "stormwatch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	st, err := openStore(ctx, config.Database{DataDir: dir}, log)
	if err != nil {
		return err
	}
	defer st.Close()
	key, ws, token, err := seedDemo(ctx, st)
	if err != nil {
		return err
	}
	pcap := filepath.Join(dir, "attack.pcap")
	if err := writeDemoCapture(pcap); err != nil {
		return err
	}

	// The demo's webhook receiver is on loopback: allowed here only.
	srv := config.Server{Addr: *addr, PagesDomain: "localhost", ShutdownTimeout: 5 * time.Second, AllowPrivateWebhooks: true}
	if err := srv.Validate(); err != nil {
		return err
	}
	// Deferred calls run last first: cancel, then wait for the server and
	// the agent to stop.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan string, 1)
	serveErr := make(chan error, 1)
	// NodeSilence stays off: the demo's agent stops after its replay, and
	// that is no news.
	wg.Go(func() {
		serveErr <- serveUntil(ctx, st, log, settings{srv: srv, auto: config.Automation{Correlation: 10 * time.Minute, ResolveAfter: *resolve},
			nc: config.Notify{WebhookTimeout: 5 * time.Second, SMTPConns: 2, Workers: 16}, tls: config.TLS{DomainCheck: time.Minute}}, func(a string) { ready <- a })
	})
	var url string
	select {
	case a := <-ready:
		url = "http://" + a
	case err := <-serveErr:
		return err
	}
	fmt.Fprintf(stdout, "stormwatch demo\n\n  status page   %s/s/demo/\n  Statuspage API %s/s/demo/api/v2/summary.json\n  admin API key %s\n\n", url, url, key)
	hook, err := demoWebhook(ctx, st, ws, stdout)
	if err != nil {
		return err
	}
	defer hook.Close()
	fmt.Fprintf(stdout, "  webhook subscriber %s (prints what it receives, marked »)\n\n", "http://"+hook.Addr)
	fmt.Fprintf(stdout, "An agent on node edge-1 now replays a DNS amplification attack on 203.0.113.7 (US-East game 01 and 02).\n\n")

	spool, err := agent.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		return err
	}
	defer spool.Close()
	settings := detect.DefaultSettings()
	settings.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	settings.PPS, settings.BPS, settings.AmplificationPPS, settings.LinkBPS = 15_000, 150_000_000, 5_000, 1_000_000_000
	a := agent.New(agent.Config{Detect: settings, Source: &agent.PcapSource{Path: pcap, Speed: sp}, Spool: spool,
		Client: agent.NewClient(url, token), Heartbeat: 2 * time.Second, Log: log, Version: version, ExitWhenDone: true})
	wg.Go(func() {
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("demo agent", "err", err)
		}
	})
	if err := watchDemo(ctx, st, ws, stdout); err != nil {
		return err
	}
	if *exit {
		return nil
	}
	fmt.Fprintf(stdout, "\nThe page stays up at %s/s/demo/ — press Ctrl-C to stop.\n", url)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	return nil
}

// seedDemo makes the demo workspace and returns its API key, id and the
// node's token.
func seedDemo(ctx context.Context, st *store.Store) (key, ws, token string, err error) {
	err = st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "demo", Name: "Acme Games (demo)", Timezone: "UTC"}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		ws = w.ID
		if _, key, err = tx.CreateAPIKey(ctx, ws, "demo", sw.RoleOwner); err != nil {
			return err
		}
		g := &sw.Group{WorkspaceID: ws, Name: "US-East", Position: 1}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		for i, c := range []sw.Component{
			{Slug: "website", Name: "Website"},
			{Slug: "us-east-game-01", Name: "US-East game 01", GroupID: g.ID},
			{Slug: "us-east-game-02", Name: "US-East game 02", GroupID: g.ID},
		} {
			c.WorkspaceID, c.Position = ws, i
			if err := tx.CreateComponent(ctx, &c); err != nil {
				return err
			}
		}
		token, err = tx.CreateNode(ctx, &sw.Node{WorkspaceID: ws, Name: "edge-1"}, []string{"us-east-game-01", "us-east-game-02"})
		return err
	})
	return key, ws, token, err
}

// writeDemoCapture writes 5 s of normal traffic, a 10 s DNS amplification
// flood (about 450 Mbit/s), 5 s of its tail and 25 s of normal traffic.
func writeDemoCapture(path string) error {
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 500}
	amp := pcapgen.Reflected(victim, 53, 1400)
	_, err := pcapgen.Write(path, pcapgen.Scenario{Start: time.Now().Add(-time.Hour).Truncate(time.Second), Phases: []pcapgen.Phase{
		{Duration: 5 * time.Second, Mixes: []pcapgen.Mix{web}},
		{Duration: 10 * time.Second, Mixes: []pcapgen.Mix{web, {Kind: amp, PPS: 40_000}}},
		{Duration: 5 * time.Second, Mixes: []pcapgen.Mix{web, {Kind: amp, PPS: 3_000}}},
		{Duration: 25 * time.Second, Mixes: []pcapgen.Mix{web}},
	}})
	return err
}

// watchDemo prints what happens to the attack and the incident until the
// incident is resolved.
func watchDemo(ctx context.Context, st *store.Store, ws string, out io.Writer) error {
	seen := map[string]bool{}
	say := func(key, format string, args ...any) {
		if !seen[key] {
			seen[key] = true
			fmt.Fprintf(out, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		attacks, _, err := st.Attacks(ctx, ws, store.Page{Limit: 5})
		if err != nil {
			return err
		}
		for _, a := range attacks {
			say("attack-"+a.ID+a.Phase, "agent: %s — %s, severity %s", a.Phase, a.Title, a.Severity)
		}
		incs, _, err := st.Incidents(ctx, ws, store.IncidentFilter{}, store.Page{Limit: 5})
		if err != nil {
			return err
		}
		for _, inc := range incs {
			for i := len(inc.Updates) - 1; i >= 0; i-- {
				u := inc.Updates[i]
				say("update-"+u.ID, "page: %q is %s — %s", inc.Title, u.Status, u.Message)
			}
			if inc.Status == sw.Resolved {
				return nil
			}
		}
	}
}

// demoWebhook runs a webhook receiver on loopback that prints each
// notification, and subscribes it to the demo workspace.
func demoWebhook(ctx context.Context, st *store.Store, ws string, stdout io.Writer) (*http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	hs := &http.Server{Addr: ln.Addr().String(), ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Event    string
			Incident struct{ Title, Status string }
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p)
		mu.Lock()
		fmt.Fprintf(stdout, "  » webhook %-18s %q %s (webhook-id %s)\n", p.Event, p.Incident.Title, p.Incident.Status, r.Header.Get("webhook-id"))
		mu.Unlock()
	})}
	go func() { _ = hs.Serve(ln) }()
	now := time.Now()
	sub := &sw.Subscriber{WorkspaceID: ws, Type: sw.SubscriberWebhook, URL: "http://" + hs.Addr + "/hook", MinImpact: sw.ImpactNone, ConfirmedAt: &now}
	err = st.Tx(ctx, func(tx *store.Tx) error {
		return tx.CreateSubscriber(ctx, sub, "whsec_ZGVtby1kZW1vLWRlbW8tZGVtby1kZW1vLWRlbW8=", []string{})
	})
	if err != nil {
		hs.Close()
		return nil, err
	}
	return hs, nil
}
