package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// agentEvent posts one attack event with node token token, as an agent
// does, and fails the test unless the server takes it.
func agentEvent(t *testing.T, url, token, attack string, seq int, typ, phase string, started time.Time) {
	t.Helper()
	e := map[string]any{"id": fmt.Sprintf("%s-%d", attack, seq), "type": typ, "attack_id": attack, "seq": seq,
		"at": time.Now().UTC(), "started_at": started.UTC(), "target": "203.0.113.7", "phase": phase, "severity": "high",
		"classification": "syn_flood", "title": "SYN flood on 203.0.113.7 — 30.0 kpps",
		"vectors": []map[string]any{{"type": "syn_flood", "proto": "tcp", "pps": 30000, "bps": 14000000, "confidence": 0.9}},
		"pps":     30000, "bps": 14000000, "peak_pps": 30000, "peak_bps": 14000000}
	if phase == "ended" {
		e["ended_at"] = time.Now().UTC()
	}
	body, _ := json.Marshal(map[string]any{"events": []any{e}})
	if code, res := call(t, "POST", url+"/api/v1/agent/events", token, string(body)); code != 200 {
		t.Fatalf("%s %s answered %d: %v", attack, typ, code, res)
	}
}

// TestCorrelatedAttacksKeepTheIncidentOpen runs the real server with two
// node tokens reporting attacks on one component: the incident stays open
// (the component too) while the second attack runs, well past
// --resolve-after; it resolves after the second ends, with one "back to
// normal" update.
func TestCorrelatedAttacksKeepTheIncidentOpen(t *testing.T) {
	db, key := acmeOn(t, "--data-dir", t.TempDir())
	s := startServe(t, append(db, "--resolve-after", "1s")...)
	if code, _ := call(t, "POST", s.url+"/api/v1/components", key, `{"name":"US-East game 01","slug":"us-east-game-01"}`); code != 201 {
		t.Fatal("component")
	}
	tokens := map[string]string{}
	for _, name := range []string{"edge-1", "edge-2"} {
		code, node := call(t, "POST", s.url+"/api/v1/nodes", key, `{"name":"`+name+`","components":["us-east-game-01"]}`)
		if code != 201 {
			t.Fatal("node")
		}
		tokens[name] = node["token"].(string)
	}
	start := time.Now()
	agentEvent(t, s.url, tokens["edge-1"], "atk_one", 1, "attack.started", "detected", start)
	agentEvent(t, s.url, tokens["edge-2"], "atk_two", 1, "attack.started", "detected", start)
	agentEvent(t, s.url, tokens["edge-1"], "atk_one", 2, "attack.ended", "ended", start)

	incident := func() (string, string, []string) {
		_, list := call(t, "GET", s.url+"/api/v1/incidents", key, "")
		data := list["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("%d incidents, want 1: %v", len(data), list)
		}
		inc := data[0].(map[string]any)
		var msgs []string
		for _, u := range inc["updates"].([]any) {
			msgs = append(msgs, u.(map[string]any)["message"].(string))
		}
		_, comp := call(t, "GET", s.url+"/api/v1/components/us-east-game-01", key, "")
		return inc["status"].(string), comp["status"].(string), msgs
	}
	// Three times --resolve-after with the second attack still running.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if st, comp, msgs := incident(); st != "investigating" || comp != "partial_outage" {
			t.Fatalf("first attack ended, second running: incident %s, component %s, updates %q", st, comp, msgs)
		}
	}
	agentEvent(t, s.url, tokens["edge-2"], "atk_two", 2, "attack.updated", "detected", start)
	agentEvent(t, s.url, tokens["edge-2"], "atk_two", 3, "attack.ended", "ended", start)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, comp, msgs := incident()
		if st == "resolved" {
			if comp != "operational" || strings.Count(strings.Join(msgs, "\n"), "Traffic is back to normal") != 1 {
				t.Fatalf("resolved: component %s, updates %q", comp, msgs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never resolved after both attacks ended: %s %q", st, msgs)
		}
	}
}
