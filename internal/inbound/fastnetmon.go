package inbound

import (
	"encoding/json"
	"strconv"
	"strings"

	sw "github.com/stormwatch/stormwatch"
)

// FastNetMon is what deploy/fastnetmon-notify.sh posts for one call of
// FastNetMon's notify script: its arguments and, for ban and
// attack_details, the details it wrote on the script's stdin (text, or
// JSON with notify_script_format json).
type FastNetMon struct {
	// ID is made once per call by the script: its retries repeat it.
	ID        string `json:"id"`
	IP        string `json:"ip"`
	Direction string `json:"direction"`
	PPS       uint64 `json:"pps"`
	Action    string `json:"action"` // ban, unban, attack_details
	Details   string `json:"details"`
}

// FastNetMonDetails are the attack details read from the stdin text or
// JSON.
type FastNetMonDetails struct {
	UUID, Type, Protocol, Severity string
	PPS, BPS                       uint64
}

// ParseDetails reads FastNetMon's attack details, JSON or text, leaving
// what it cannot find empty.
func ParseDetails(raw string) FastNetMonDetails {
	var d FastNetMonDetails
	var doc struct {
		AttackDetails map[string]any `json:"attack_details"`
	}
	if json.Unmarshal([]byte(raw), &doc) == nil && doc.AttackDetails != nil {
		a := doc.AttackDetails
		d.UUID, d.Type, d.Protocol, d.Severity = str(a["attack_uuid"]), str(a["attack_type"]), str(a["attack_protocol"]), str(a["attack_severity"])
		d.PPS = num(a["total_incoming_pps"])
		if b := num(a["total_incoming_traffic_bits"]); b > 0 {
			d.BPS = b
		} else {
			d.BPS = num(a["total_incoming_traffic"]) * 8 // bytes per second
		}
		return d
	}
	for line := range strings.SplitSeq(raw, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		first := strings.Fields(value + " ")
		switch key {
		case "attack uuid":
			d.UUID = value
		case "attack type":
			d.Type = value
		case "attack protocol":
			d.Protocol = value
		case "attack severity":
			d.Severity = value
		case "total incoming pps":
			d.PPS, _ = strconv.ParseUint(first[0], 10, 64)
		case "total incoming traffic":
			mbps, _ := strconv.ParseFloat(first[0], 64)
			d.BPS = uint64(mbps * 1e6)
		}
	}
	return d
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) uint64 {
	switch n := v.(type) {
	case float64:
		if n > 0 {
			return uint64(n)
		}
	case string:
		u, _ := strconv.ParseUint(n, 10, 64)
		return u
	}
	return 0
}

// fnmTypes maps FastNetMon's attack types to stormwatch's vectors.
var fnmTypes = map[string]string{"syn_flood": sw.VectorSYNFlood, "icmp_flood": sw.VectorICMPFlood, "udp_flood": sw.VectorUDPFlood,
	"ip_fragmentation_flood": sw.VectorFragmentFlood}

var fnmProtocols = map[string]string{"tcp": sw.VectorTCPFlood, "udp": sw.VectorUDPFlood, "icmp": sw.VectorICMPFlood}

// FromFastNetMon turns a notify call into a generic step: ban starts an
// attack on the address, attack_details updates it (or starts it if the
// ban was missed), unban ends it; open is the node's open FastNetMon
// attack on that address, nil if none. It returns nil for what changes
// nothing (an unban with no attack open, outgoing traffic).
func FromFastNetMon(n *FastNetMon, open *sw.Attack) (*Event, error) {
	if !validTarget(n.IP) {
		return nil, sw.Invalid("ip", "must be the attacked IP address")
	}
	if n.ID == "" || len(n.ID) > 80 {
		return nil, sw.Invalid("id", "is required (at most 80 characters): the script makes one per call")
	}
	if n.Direction != "" && n.Direction != "incoming" {
		return nil, nil // an outgoing attack is this network's customer attacking others
	}
	d := ParseDetails(n.Details)
	class := fnmTypes[strings.ToLower(d.Type)]
	if class == "" {
		class = fnmProtocols[strings.ToLower(d.Protocol)]
	}
	if class == "" {
		class = sw.VectorOther
	}
	sev := map[string]string{"low": "low", "middle": "medium", "medium": "medium", "high": "high", "critical": "critical"}[strings.ToLower(d.Severity)]
	if sev == "" {
		sev = string(sw.SeverityHigh) // FastNetMon banned it: it is sure
	}
	pps := max(d.PPS, n.PPS)
	e := &Event{ID: n.ID, Target: n.IP, Severity: sev, Classification: class, PPS: pps, BPS: d.BPS,
		Title: "FastNetMon: " + strings.ReplaceAll(class, "_", " ") + " on " + n.IP}
	switch n.Action {
	case "ban", "attack_details":
		e.Type = "started"
		if open != nil {
			e.Type, e.AttackID = "updated", strings.TrimPrefix(open.ID, "fnm-")
			return e, nil
		}
		e.AttackID = n.IP + "-" + n.ID
		if d.UUID != "" {
			e.AttackID = d.UUID
		}
	case "unban":
		if open == nil {
			return nil, nil
		}
		e.Type, e.AttackID = "ended", strings.TrimPrefix(open.ID, "fnm-")
	default:
		return nil, sw.Invalid("action", "must be ban, unban or attack_details")
	}
	return e, nil
}
