// Command storm measures the public page during a storm: N replicas of
// stormwatch serve on one PostgreSQL, readers fetching the page and
// summary.json as fast as they can, while 100 agents report heartbeats and
// attack events and an incident fans out to 10,000 webhook subscribers.
// The same readers are measured first without the storm, in the same run,
// as the baseline. It prints one markdown table row.
//
//	go run ./bench/storm --stormwatch ./stormwatch --seed ./seed --database-url postgres://… --replicas 3
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

func main() {
	bin := flag.String("stormwatch", "./stormwatch", "stormwatch binary")
	seed := flag.String("seed", "./seed", "bench/seed binary")
	base := flag.String("database-url", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL to make a fresh schema in")
	replicas := flag.Int("replicas", 1, "serve replicas")
	agents := flag.Int("agents", 100, "agents reporting events")
	subscribers := flag.Int("subscribers", 10000, "webhook subscribers of the storm's incident")
	readers := flag.Int("readers", 32, "concurrent page readers")
	rate := flag.Int("rate", 0, "page requests per second across readers (0: as fast as they can)")
	quiet := flag.Duration("quiet", 8*time.Second, "baseline phase")
	storm := flag.Duration("storm", 12*time.Second, "storm phase")
	flag.Parse()
	if err := run(*bin, *seed, *base, *replicas, *agents, *subscribers, *readers, *rate, *quiet, *storm); err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
}

type stats struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int
	first     string
}

func (s *stats) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.errors == 0 {
			s.first = err.Error()
		}
		s.errors++
		return
	}
	s.latencies = append(s.latencies, d)
}

func (s *stats) summary(span time.Duration) (rps float64, p50, p99 time.Duration, errs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	if len(l) == 0 {
		return 0, 0, 0, s.errors
	}
	return float64(len(l)) / span.Seconds(), l[len(l)/2], l[len(l)*99/100], s.errors
}

func run(bin, seed, base string, replicas, agents, subscribers, readers, rate int, quiet, storm time.Duration) error {
	dsn, drop, err := freshSchema(base)
	if err != nil {
		return err
	}
	defer drop()
	out, err := exec.Command(seed, "--database-url", dsn).Output()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	key := strings.TrimSpace(string(out))

	var urls []string
	for range replicas {
		u, stop, err := serve(bin, dsn)
		if err != nil {
			return err
		}
		defer stop()
		urls = append(urls, u)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	api := func(method, path, ctype, body string) (map[string]any, error) {
		req, _ := http.NewRequest(method, urls[0]+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m, nil
	}

	// The storm's subscribers: 10,000 webhooks on a fast local receiver.
	var received atomic.Int64
	var lastAt atomic.Int64
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		lastAt.Store(time.Now().UnixNano())
		w.WriteHeader(http.StatusNoContent)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = rcv.Serve(ln) }()
	defer rcv.Close()
	if _, err := api("POST", "/api/v1/components", "application/json", `{"name":"Storm target","slug":"storm-target"}`); err != nil {
		return err
	}
	if _, err := api("POST", "/api/v1/components", "application/json", `{"name":"Edge fleet","slug":"edge-fleet"}`); err != nil {
		return err
	}
	var csv bytes.Buffer
	csv.WriteString("type,url,components\n")
	for i := range subscribers {
		fmt.Fprintf(&csv, "webhook,http://%s/%d,storm-target\n", ln.Addr(), i)
	}
	if _, err := api("POST", "/api/v1/subscribers/import", "text/csv", csv.String()); err != nil {
		return err
	}
	var nodeTokens []string
	for i := range agents {
		n, err := api("POST", "/api/v1/nodes", "application/json", fmt.Sprintf(`{"name":"edge-%d","components":["edge-fleet"]}`, i))
		if err != nil {
			return err
		}
		nodeTokens = append(nodeTokens, n["token"].(string))
	}

	// Readers, all along; their numbers are split by phase.
	var phase atomic.Int32
	quietStats, stormStats := &stats{}, &stats{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// With a rate, requests are paced (an open load, as visitors are);
	// without, readers go as fast as the machine lets them.
	var tokens chan struct{}
	if rate > 0 {
		tokens = make(chan struct{}, readers)
		wg.Go(func() {
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					select {
					case tokens <- struct{}{}:
					default: // readers are all busy: the request is dropped, not queued
					}
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			paths := []string{"/s/acme/", "/s/acme/api/v2/summary.json"}
			for i := 0; ctx.Err() == nil; i++ {
				if tokens != nil {
					select {
					case <-ctx.Done():
						return
					case <-tokens:
					}
				}
				u := urls[(r+i)%len(urls)] + paths[i%2]
				start := time.Now()
				res, err := client.Get(u)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("%d", res.StatusCode)
					}
				}
				if ctx.Err() != nil {
					return
				}
				s := quietStats
				if phase.Load() == 1 {
					s = stormStats
				}
				s.add(time.Since(start), err)
			}
		})
	}
	time.Sleep(quiet)

	// The storm: agents report, the incident fans out.
	phase.Store(1)
	wsBefore, _ := api("GET", "/api/v1/workspace", "application/json", "")
	stormStart := time.Now()
	stormCtx, stopStorm := context.WithTimeout(ctx, storm)
	defer stopStorm()
	var agentErrs, agentEvents atomic.Int64
	for a, tok := range nodeTokens {
		wg.Go(func() { agent(stormCtx, client, urls[a%len(urls)], tok, a, &agentEvents, &agentErrs) })
	}
	published := time.Now()
	if _, err := api("POST", "/api/v1/incidents", "application/json",
		`{"title":"DDoS attack detected on the edge fleet","impact":"major","message":"We are mitigating a UDP flood.","components":{"storm-target":"partial_outage"}}`); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	<-stormCtx.Done()
	stopStorm()
	cancel()
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for received.Load() < int64(subscribers) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if wsAfter, err := api("GET", "/api/v1/workspace", "application/json", ""); err == nil && wsBefore != nil {
		fmt.Fprintf(os.Stderr, "storm: the page changed %v times during the storm\n", wsAfter["revision"].(float64)-wsBefore["revision"].(float64))
	}
	qr, qp50, qp99, qerr := quietStats.summary(quiet)
	sr, sp50, sp99, serr := stormStats.summary(time.Since(stormStart))
	fan := time.Duration(lastAt.Load() - published.UnixNano())
	for _, s := range []*stats{quietStats, stormStats} {
		if s.errors > 0 {
			fmt.Fprintln(os.Stderr, "storm: first reader error:", s.first)
		}
	}
	fmt.Printf("| %d | %.0f | %v | %v | %d | %.0f | %v | %v | %d | %d / %d | %d | %d in %v |\n", replicas,
		qr, qp50.Round(10*time.Microsecond), qp99.Round(10*time.Microsecond), qerr,
		sr, sp50.Round(10*time.Microsecond), sp99.Round(10*time.Microsecond), serr,
		agentEvents.Load(), agentErrs.Load(), subscribers, received.Load(), fan.Round(time.Millisecond))
	return nil
}

// agent reports a heartbeat and an attack event batch every second, as a
// node under attack does.
func agent(ctx context.Context, c *http.Client, base, token string, n int, events, errs *atomic.Int64) {
	post := func(path, body string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 300 {
				err = fmt.Errorf("%d", res.StatusCode)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			errs.Add(1)
		}
	}
	attack := fmt.Sprintf("atk_storm_%d", n)
	start := time.Now().UTC()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for seq := 1; ; seq++ {
		post("/api/v1/agent/heartbeat", fmt.Sprintf(`{"agent_version":"storm","source":"eth0","pps":%d,"bps":%d,"active_attacks":1}`, 300000+seq, 3200000000+seq))
		typ := "attack.updated"
		if seq == 1 {
			typ = "attack.started"
		}
		ev := map[string]any{"id": fmt.Sprintf("%s-%d", attack, seq), "type": typ, "attack_id": attack, "seq": seq,
			"at": time.Now().UTC().Format(time.RFC3339), "target": "203.0.113.7", "phase": "detected", "severity": "high",
			"classification": "dns_amplification", "confidence": 0.9, "title": "UDP flood (DNS amplification) on 203.0.113.7",
			"vectors": []any{map[string]any{"type": "amplification", "service": "dns", "port": 53, "proto": "udp", "pps": 280000, "bps": 3200000000, "confidence": 0.9}},
			"pps":     280000, "bps": 3200000000, "peak_pps": 280000, "peak_bps": 3200000000, "distinct_sources": 1200,
			"top_sources": []any{map[string]any{"addr": "198.51.100.1", "pps": 5000}}, "started_at": start.Format(time.RFC3339)}
		raw, _ := json.Marshal(map[string]any{"events": []any{ev}})
		post("/api/v1/agent/events", string(raw))
		events.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// serve starts a replica and returns its URL.
func serve(bin, dsn string) (string, func(), error) {
	cmd := exec.Command(bin, "serve", "--database-url", dsn, "--addr", "127.0.0.1:0", "--base-url", "http://127.0.0.1:0",
		"--allow-private-webhooks", "--log-level", "info")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	addr := make(chan string, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var acc []byte
		for {
			n, err := pipe.Read(buf)
			if n > 0 && addr != nil {
				acc = append(acc, buf[:n]...)
				if m := listening.FindSubmatch(acc); m != nil {
					addr <- string(m[1])
					addr = nil
				}
			}
			if err != nil {
				return
			}
		}
	}()
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	select {
	case a := <-addr:
		return "http://" + a, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, fmt.Errorf("serve did not start")
	}
}

// freshSchema makes an empty schema and a DSN that uses it.
func freshSchema(base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("storm_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { _, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE"); db.Close() }, nil
}
