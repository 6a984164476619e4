package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// mitigationReport is what an agent says of its BGP work.
type mitigationReport struct {
	AttackID string `json:"attack_id"`
	Action   string `json:"action"`
	Route    string `json:"route"`
	Peer     string `json:"peer"`
	Error    string `json:"error"`
	DryRun   bool   `json:"dry_run"`
}

var mitigationActions = []string{"announce", "withdraw", "failed", "peer_up", "peer_down"}

// agentMitigation records an agent's announce or withdraw in the audit
// log, and tells the operators of a failure or a lost BGP session (once
// an hour per peer or route, so a flapping session is one alert, not a
// storm).
func (s *Server) agentMitigation(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in mitigationReport
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if !slices.Contains(mitigationActions, in.Action) {
		return sw.Invalid("action", "must be one of announce, withdraw, failed, peer_up, peer_down")
	}
	for field, v := range map[string]string{"attack_id": in.AttackID, "route": in.Route, "peer": in.Peer, "error": in.Error} {
		if err := sw.CheckText(field, v, 500, false); err != nil {
			return err
		}
	}
	details, _ := json.Marshal(in) // strings and a bool always encode
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		target, id := "node", c.node.ID
		if in.AttackID != "" {
			target, id = "attack", in.AttackID
		}
		if err := tx.Audit(r.Context(), c.workspace, &sw.AuditEntry{Actor: c.actor(), Action: "mitigation." + in.Action, TargetType: target,
			TargetID: id, Details: json.RawMessage(details)}); err != nil {
			return err
		}
		switch in.Action {
		case "failed":
			return tx.NoticeOnce(r.Context(), c.workspace, "mitigation.failed", fmt.Sprintf("Mitigation failed on %s: %s", c.node.Name, in.Route),
				fmt.Sprintf("Node %s could not mitigate attack %s: %s. Announce by hand or check the node's BGP setup.", c.node.Name, in.AttackID, in.Error),
				tx.Now().Add(-time.Hour))
		case "peer_down":
			return tx.NoticeOnce(r.Context(), c.workspace, "mitigation.session", fmt.Sprintf("BGP session down on %s: %s", c.node.Name, in.Peer),
				fmt.Sprintf("Node %s lost its BGP session with %s (%s): attacks on it cannot be blackholed or filtered upstream until it is back.",
					c.node.Name, in.Peer, in.Error), tx.Now().Add(-time.Hour))
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
