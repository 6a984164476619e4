package main

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMetricsAndFailureLogs runs the real server with a webhook receiver
// that is down: every failed attempt is logged once at WARN with its
// delivery id, and /metrics carries the delivery, attack, incident, rule,
// node and leadership series.
func TestMetricsAndFailureLogs(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--allow-private-webhooks")...)
	// A port nobody listens on: the receiver is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	if code, _ := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"Game","slug":"game"}`); code != 201 {
		t.Fatal("component")
	}
	if code, _ := call(t, "POST", s.url+"/api/v1/subscribers", key, `{"type":"webhook","url":"http://`+dead+`/hook"}`); code != 201 {
		t.Fatal("subscriber")
	}
	code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"edge-1","components":["game"]}`)
	if code != 201 {
		t.Fatal("node")
	}
	token := node["token"].(string)
	if code, _ := call(t, "POST", s.url+"/api/v1/agent/heartbeat", token, `{"agent_version":"test","source":"test"}`); code != 200 {
		t.Fatal("heartbeat")
	}
	agentEvent(t, s.url, token, "atk_m", 1, "attack.started", "detected", time.Now())

	failed := regexp.MustCompile(`level=WARN msg="delivery attempt failed" delivery=(msg_\S+)`)
	id := s.await(t, failed)
	once := regexp.MustCompile(`delivery=` + id + ` subscriber=\S+ channel=webhook attempt=1 `)
	if n := len(once.FindAllString(s.stderr.String(), -1)); n != 1 {
		t.Errorf("the first failed attempt of %s is logged %d times", id, n)
	}
	var text string
	want := []string{
		`stormwatch_delivery_attempts_total{channel="webhook",outcome="failed"}`,
		`stormwatch_deliveries_pending 1`,
		`stormwatch_attacks_active{classification="syn_flood",phase="detected"} 1`,
		`stormwatch_incidents{source="auto",status="investigating"} 1`,
		`stormwatch_rule_decisions_total{decision="publish_immediately"} 1`,
		`stormwatch_node_heartbeats_total 1`,
		`stormwatch_attack_events_total{type="attack.started"} 1`,
		`stormwatch_nodes{state="alive"} 1`,
		`stormwatch_leading{job="automation"} 1`,
		`stormwatch_deliveries_oldest_pending_age_seconds`,
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(s.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		text = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s:\n%s", missing, grepLines(text, "stormwatch_"))
		}
	}
	if strings.Contains(text, "acme") || strings.Contains(text, "edge-1") {
		t.Error("/metrics names a workspace or node")
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
