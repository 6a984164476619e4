package api_test

import (
	"fmt"
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestNodeMitigationPolicy: an admin sets a node's mitigation policy; a
// bad one is refused naming the field, a good one reaches the agent in
// the heartbeat's answer, and null gives the agent its own back. The
// agent's reports land in the audit log, and a lost session alerts.
func TestNodeMitigationPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ws, key := e.workspace("acme", sw.RoleOwner)
		n := e.must(201, "POST", "/api/v1/nodes", key, map[string]any{"name": "edge-1"})
		id, token := n["id"].(string), n["token"].(string)
		r := e.do("PATCH", "/api/v1/nodes/"+id, key, `{"mitigation_policy":{"rules":[{"min_severity":"enormous"}]}}`)
		if r.status != 422 || !strings.Contains(string(r.body), "mitigation_policy") {
			t.Errorf("a bad policy: %d %s", r.status, r.body)
		}
		e.must(200, "PATCH", "/api/v1/nodes/"+id, key, `{"mitigation_policy":{"rules":[{"min_severity":"high","flowspec":true}],"hold":"10m"}}`)
		hb := e.must(200, "POST", "/api/v1/agent/heartbeat", token, map[string]any{"agent_version": "t", "source": "t"})
		if p, _ := hb["mitigation_policy"].(map[string]any); p == nil || p["hold"] != "10m0s" || p["max_blackholes"] != float64(10) {
			t.Errorf("heartbeat answer: %v", hb)
		}
		e.must(200, "PATCH", "/api/v1/nodes/"+id, key, `{"mitigation_policy":null}`)
		if hb := e.must(200, "POST", "/api/v1/agent/heartbeat", token, map[string]any{"agent_version": "t", "source": "t"}); hb["mitigation_policy"] != nil {
			t.Errorf("the override was not removed: %v", hb)
		}
		e.must(204, "POST", "/api/v1/agent/mitigations", token, map[string]any{"action": "peer_down", "peer": "192.0.2.1", "error": "BGP session IDLE"})
		if r := e.do("POST", "/api/v1/agent/mitigations", token, map[string]any{"action": "explode"}); r.status != 422 {
			t.Errorf("an unknown action: %d", r.status)
		}
		audit := e.must(200, "GET", "/api/v1/audit-log", key, nil)
		if !strings.Contains(fmt.Sprint(audit), "mitigation.peer_down") {
			t.Errorf("audit log: %v", audit)
		}
		notices, err := st.PendingNotices(t.Context(), ws)
		if err != nil || len(notices) == 0 || !strings.Contains(notices[0].Subject, "BGP session down on edge-1") {
			t.Errorf("notices %v %v", notices, err)
		}
	})
}
