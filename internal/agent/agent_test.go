package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/api"
	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func settings() detect.Settings {
	s := detect.DefaultSettings()
	s.Prefixes = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	s.PPS, s.BPS, s.AmplificationPPS, s.SYNPPS = 15_000, 150_000_000, 5_000, 5_000
	s.LinkBPS = 1_000_000_000
	return s
}

// attackCapture writes 2 s of web traffic, a 4 s DNS amplification with a
// SYN flood beside it, a 4 s tail and 12 s of web traffic.
func attackCapture(t *testing.T) string {
	t.Helper()
	victim := net.IPv4(203, 0, 113, 7)
	web := pcapgen.Mix{Kind: pcapgen.WebClients(victim), PPS: 1000}
	amp := pcapgen.Mix{Kind: pcapgen.Reflected(victim, 53, 1400), PPS: 15_000}
	path := filepath.Join(t.TempDir(), "attack.pcap")
	_, err := pcapgen.Write(path, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Phases: []pcapgen.Phase{
		{Duration: 2 * time.Second, Mixes: []pcapgen.Mix{web}},
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, amp}},
		{Duration: 4 * time.Second, Mixes: []pcapgen.Mix{web, {Kind: amp.Kind, PPS: 1500}}},
		{Duration: 12 * time.Second, Mixes: []pcapgen.Mix{web}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// expected runs the detector over the capture offline: the events the
// agent must deliver.
func expected(t *testing.T, path string) []sw.AttackEvent {
	t.Helper()
	d := detect.New(settings())
	var out []sw.AttackEvent
	st, err := capture.ReadFile(context.Background(), path, 0, func(p *detect.Packet) error {
		out = append(out, d.Observe(p)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, d.Flush(st.Last.Add(settings().HoldDown+settings().Reonset+2*time.Second))...)
	if len(out) < 3 {
		t.Fatalf("the capture makes only %d events", len(out))
	}
	return out
}

// server is the real API on a real store, on a port that survives restarts.
type server struct {
	t     *testing.T
	store *store.Store
	addr  string
	srv   *http.Server
	ws    string
	node  string
	token string
}

func newServer(t *testing.T) *server {
	st := storetest.Open(t, store.SQLite)
	s := &server{t: t, store: st}
	err := st.Tx(context.Background(), func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme"}
		if err := tx.CreateWorkspace(context.Background(), w); err != nil {
			return err
		}
		n := &sw.Node{WorkspaceID: w.ID, Name: "edge-1"}
		tok, err := tx.CreateNode(context.Background(), n, nil)
		s.ws, s.node, s.token = w.ID, n.ID, tok
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *server) serve(ln net.Listener) {
	s.srv = &http.Server{Handler: api.New(s.store, quiet)}
	go func() { _ = s.srv.Serve(ln) }()
}

func (s *server) stop() { s.srv.Close() }

func (s *server) start() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

func (s *server) stored() int {
	n, err := s.store.AttackEventCount(context.Background(), s.ws, s.node)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newAgent(t *testing.T, s *server, capturePath, spoolDir string, speed float64) (*Agent, *Spool) {
	t.Helper()
	spool, err := OpenSpool(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spool.Close() })
	a := New(Config{Detect: settings(), Source: &PcapSource{Path: capturePath, Speed: speed}, Spool: spool,
		Client: NewClient("http://"+s.addr, s.token), Heartbeat: time.Second, Log: quiet, Version: "test", ExitWhenDone: true})
	return a, spool
}

// checkDelivered asserts that the server holds exactly the events of want,
// each once, and the attack in its final state.
func checkDelivered(t *testing.T, s *server, want []sw.AttackEvent) {
	t.Helper()
	if got := s.stored(); got != len(want) {
		t.Fatalf("server holds %d events, want %d", got, len(want))
	}
	a, err := s.store.Attack(context.Background(), s.ws, want[0].AttackID)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Timeline) != len(want) || a.Phase != sw.PhaseEnded || a.Classification != "dns_amplification" {
		t.Fatalf("attack: %d events, phase %s, %s", len(a.Timeline), a.Phase, a.Classification)
	}
	for i, e := range a.Timeline {
		if e.ID != want[i].ID || e.Type != want[i].Type {
			t.Errorf("event %d: %s %s, want %s %s", i, e.ID, e.Type, want[i].ID, want[i].Type)
		}
	}
}

func TestServerOutageMidAttack(t *testing.T) {
	path := attackCapture(t)
	want := expected(t, path)
	s := newServer(t)
	a, spool := newAgent(t, s, path, t.TempDir(), 4)
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()

	waitFor(t, "the first event", 20*time.Second, func() bool { return s.stored() >= 1 })
	s.stop()
	waitFor(t, "events to pile up in the spool", 20*time.Second, func() bool { return spool.Pending() >= 1 })
	s.start()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the agent never finished")
	}
	checkDelivered(t, s, want)
}

func TestAgentRestartKeepsTheSpool(t *testing.T) {
	path := attackCapture(t)
	want := expected(t, path)
	s := newServer(t)
	s.stop() // the server is down while the first agent runs
	dir := t.TempDir()
	a, spool := newAgent(t, s, path, dir, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	waitFor(t, "every event in the spool", 30*time.Second, func() bool { return spool.Pending() == len(want) })
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	spool.Close()

	// A new agent on the same spool replays the capture again: the same
	// events (stable ids) join the unsent ones, and the server keeps one
	// of each.
	s.start()
	b, spool2 := newAgent(t, s, path, dir, 0)
	if spool2.Pending() != len(want) {
		t.Fatalf("reopened spool holds %d events, want %d", spool2.Pending(), len(want))
	}
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, want)
	if spool2.Pending() != 0 {
		t.Fatalf("spool still holds %d events", spool2.Pending())
	}
}

func storePage() store.Page { return store.Page{Limit: 10} }
