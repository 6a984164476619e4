package stormwatch

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Attack event types, sent by agents in this order over an attack's life.
const (
	EventStarted    = "attack.started"
	EventUpdated    = "attack.updated"
	EventMitigating = "attack.mitigating"
	EventSubsiding  = "attack.subsiding"
	EventEnded      = "attack.ended"
)

// Attack phases.
const (
	PhaseDetected   = "detected"
	PhaseMitigating = "mitigating"
	PhaseSubsiding  = "subsiding"
	PhaseEnded      = "ended"
)

// Vector kinds.
const (
	VectorUDPFlood = "udp_flood"
	VectorSYNFlood = "syn_flood"
	// VectorSYNACKReflection is SYN-ACKs for connections the target never
	// opened: servers answering SYNs sent in its name.
	VectorSYNACKReflection = "synack_reflection"
	VectorACKFlood         = "ack_flood"
	VectorRSTFINFlood      = "rst_fin_flood"
	VectorTCPFlood         = "tcp_flood"
	VectorICMPFlood        = "icmp_flood"
	VectorFragmentFlood    = "fragment_flood"
	VectorGREFlood         = "gre_flood"
	VectorAmplification    = "amplification" // Service names the service
	VectorReflection       = "reflection"    // Port names the source port
	VectorCarpet           = "carpet_bombing"
	VectorOther            = "other"
	// VectorUnreachable is not traffic: the server raises it when a node's
	// heartbeats stop (a saturated uplink silences the agent too).
	VectorUnreachable = "node_unreachable"
	// VectorAlert is an alert from outside (Prometheus Alertmanager, a
	// script) that names no kind of attack.
	VectorAlert = "alert"
)

// Service is a UDP service that attackers reflect and amplify through,
// recognised by its source port.
type Service struct {
	Name string // as in "DNS amplification"
	Key  string // as in "dns_amplification"
	Port uint16
}

// NumServices is the number of known amplification services.
const NumServices = 20

// Services are the amplification services detection knows.
var Services = [NumServices]Service{
	{"DNS", "dns", 53}, {"NTP", "ntp", 123}, {"SSDP", "ssdp", 1900}, {"memcached", "memcached", 11211},
	{"CLDAP", "cldap", 389}, {"chargen", "chargen", 19}, {"SNMP", "snmp", 161}, {"WS-Discovery", "wsd", 3702},
	{"portmapper", "portmap", 111}, {"NetBIOS", "netbios", 137}, {"mDNS", "mdns", 5353}, {"RIPv1", "rip", 520},
	{"TFTP", "tftp", 69}, {"QOTD", "qotd", 17}, {"ARMS", "arms", 3283}, {"CoAP", "coap", 5683},
	{"Ubiquiti discovery", "ubiquiti", 10001}, {"OpenVPN", "openvpn", 1194}, {"SLP", "slp", 427}, {"DTLS", "dtls", 443},
}

// Vector is one kind of traffic in an attack.
type Vector struct {
	Type    string `json:"type"`
	Service string `json:"service,omitempty"` // "dns", for amplification
	Port    uint16 `json:"port,omitempty"`    // source port, for amplification and reflection
	Proto   string `json:"proto"`
	PPS     uint64 `json:"pps"`
	BPS     uint64 `json:"bps"`
	// Confidence is how surely the traffic is this vector, 0 to 1: the
	// share of the window's packets it explains, sharpened by the
	// signs that go with it (large packets for amplification).
	Confidence float64 `json:"confidence"`
}

// Key is the vector's name in rules and summaries: "syn_flood",
// "dns_amplification", "reflection_3283".
func (v Vector) Key() string {
	switch v.Type {
	case VectorAmplification:
		return v.Service + "_amplification"
	case VectorReflection:
		return fmt.Sprintf("reflection_%d", v.Port)
	}
	return v.Type
}

// Name is the vector in words: "DNS amplification", "SYN flood".
func (v Vector) Name() string {
	key, args := v.Words()
	return fmt.Sprintf(key, args...)
}

// Words is the vector's name as an English text of the message catalogue
// and its arguments, for pages in other languages.
func (v Vector) Words() (string, []any) {
	switch v.Type {
	case VectorAmplification:
		for _, s := range Services {
			if s.Key == v.Service {
				return "%s amplification", []any{s.Name}
			}
		}
	case VectorReflection:
		return "reflection from %s port %d", []any{strings.ToUpper(v.Proto), v.Port}
	case VectorSYNFlood:
		return "SYN flood", nil
	case VectorSYNACKReflection:
		return "SYN-ACK reflection", nil
	case VectorACKFlood:
		return "ACK flood", nil
	case VectorRSTFINFlood:
		return "RST/FIN flood", nil
	case VectorTCPFlood:
		return "TCP flood", nil
	case VectorUDPFlood:
		return "UDP flood", nil
	case VectorICMPFlood:
		return "ICMP flood", nil
	case VectorFragmentFlood:
		return "IP fragment flood", nil
	case VectorGREFlood:
		return "GRE flood", nil
	case VectorCarpet:
		return "carpet bombing", nil
	case VectorUnreachable:
		return "loss of contact", nil
	}
	return "traffic flood", nil
}

// AttackSource is a heavy-hitter source address with its estimated rate.
type AttackSource struct {
	Addr string `json:"addr"`
	PPS  uint64 `json:"pps"`
}

// AttackEvent is one step of an attack's life, carrying everything known about
// it at that moment, severity and classification included from the first
// event on. ID is unique and stable, so a resent event is recognised.
type AttackEvent struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	AttackID       string         `json:"attack_id"`
	Seq            int            `json:"seq"`
	At             time.Time      `json:"at"`
	Target         string         `json:"target"`
	Phase          string         `json:"phase"`
	Severity       string         `json:"severity"`
	Classification string         `json:"classification"`
	Confidence     float64        `json:"confidence"`
	Vectors        []Vector       `json:"vectors"`
	Title          string         `json:"title"`
	PPS            uint64         `json:"pps"`
	BPS            uint64         `json:"bps"`
	PeakPPS        uint64         `json:"peak_pps"`
	PeakBPS        uint64         `json:"peak_bps"`
	Sources        uint64         `json:"distinct_sources"`
	TopSources     []AttackSource `json:"top_sources"`
	TopPorts       []uint16       `json:"top_source_ports,omitempty"`
	StartedAt      time.Time      `json:"started_at"`
	EndedAt        *time.Time     `json:"ended_at,omitempty"`
	// Reason says why the agent raised the attack: which limit its
	// traffic crossed, and by how much.
	Reason string `json:"reason,omitempty"`
	// Monitor is set on the server's monitor_down signals: the check and
	// how many locations agree.
	Monitor *MonitorFacts `json:"monitor,omitempty"`
	// Check is set on an agent's monitor.down and monitor.up events: the
	// run that changed the check's state at the agent's node.
	Check *CheckResult `json:"check,omitempty"`
	// Components, when set (an inbound alert's component label), are the
	// slugs of the components the signal affects instead of the node's.
	Components []string `json:"components,omitempty"`
	// Mitigation, on attack.mitigating, says what the agent announced
	// upstream ("blackhole 203.0.113.7/32 communities 65535:666", a
	// FlowSpec rule): for the operators' timeline, never the public page.
	Mitigation []string `json:"mitigation,omitempty"`
}

// Attack is an attack's latest state as the server knows it, with the
// events received so far (its timeline) when asked for one attack.
type Attack struct {
	ID             string         `json:"id"`
	NodeID         string         `json:"node_id"`
	Target         string         `json:"target"`
	Phase          string         `json:"phase"`
	Severity       Severity       `json:"severity"`
	Classification string         `json:"classification"`
	Confidence     float64        `json:"confidence"`
	Title          string         `json:"title"`
	Vectors        []Vector       `json:"vectors"`
	PPS            uint64         `json:"pps"`
	BPS            uint64         `json:"bps"`
	PeakPPS        uint64         `json:"peak_pps"`
	PeakBPS        uint64         `json:"peak_bps"`
	Sources        uint64         `json:"distinct_sources"`
	TopSources     []AttackSource `json:"top_sources"`
	StartedAt      time.Time      `json:"started_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	EndedAt        *time.Time     `json:"ended_at"`
	Monitor        *MonitorFacts  `json:"monitor,omitempty"`
	Components     []string       `json:"components,omitempty"`
	// Capture is the pcapng the agent uploaded, when there is one (read
	// with the single attack, not in listings).
	Capture *CaptureInfo `json:"capture,omitempty"`
	// Seq is the number of the last event received.
	Seq      int           `json:"-"`
	Timeline []AttackEvent `json:"timeline,omitempty"`
}

// Event times must fall within this window around the server's clock:
// far enough back for a spool that waited out a long outage, far enough
// ahead for clock skew and for a capture replayed faster than recorded
// (replays are shifted to start at the wall clock). Outside it an event
// is a broken clock or a forgery, and would age or escalate incidents
// wrongly.
const (
	MaxEventAge  = 30 * 24 * time.Hour
	MaxEventLead = time.Hour
)

// CheckAttackEvent validates an event an agent sent at server time now,
// naming the field at fault; index is its position in the batch.
func CheckAttackEvent(index int, e *AttackEvent, now time.Time) error {
	f := func(name string) string { return fmt.Sprintf("events[%d].%s", index, name) }
	if e.Type == EventMonitorDown || e.Type == EventMonitorUp {
		return checkMonitorEvent(f, e, now)
	}
	if e.Check != nil || e.Monitor != nil {
		return Invalid(f("check"), "only monitor.down and monitor.up events carry a check")
	}
	if len(e.Mitigation) > 10 {
		return Invalid(f("mitigation"), "at most 10 entries")
	}
	for _, m := range e.Mitigation {
		if err := CheckText(f("mitigation"), m, 500, true); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		name string
		at   *time.Time
	}{{"at", &e.At}, {"started_at", &e.StartedAt}, {"ended_at", e.EndedAt}} {
		if t.at == nil || t.at.IsZero() {
			continue
		}
		if t.at.Before(now.Add(-MaxEventAge)) || t.at.After(now.Add(MaxEventLead)) {
			return Invalid(f(t.name), "%s is not within 30 days before and an hour after the server's clock (%s): check the agent's clock",
				t.at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	if _, err := netip.ParseAddr(e.Target); err != nil {
		if _, err := netip.ParsePrefix(e.Target); err != nil {
			return Invalid(f("target"), "must be an IP address or a prefix in CIDR form, such as 203.0.113.7 or 203.0.113.0/24")
		}
	}
	switch {
	case e.ID == "" || len(e.ID) > 128:
		return Invalid(f("id"), "is required (at most 128 characters)")
	case e.AttackID == "" || len(e.AttackID) > 64:
		return Invalid(f("attack_id"), "is required (at most 64 characters)")
	case e.Seq < 1:
		return Invalid(f("seq"), "must be 1 or more")
	case e.At.IsZero():
		return Invalid(f("at"), "is required")
	case e.StartedAt.IsZero():
		return Invalid(f("started_at"), "is required")
	case !Severity(e.Severity).Valid():
		return Invalid(f("severity"), "must be one of low, medium, high, critical")
	case e.Target == "" || len(e.Target) > 64:
		return Invalid(f("target"), "is required (at most 64 characters)")
	case len(e.Vectors) > 32 || len(e.TopSources) > 32:
		return Invalid(f("vectors"), "at most 32 vectors and 32 sources")
	case len(e.Components) > 64:
		return Invalid(f("components"), "at most 64 components")
	}
	for i, c := range e.Components {
		if err := CheckSlug(f(fmt.Sprintf("components[%d]", i)), c); err != nil {
			return err
		}
	}
	switch e.Type {
	case EventStarted, EventUpdated, EventMitigating, EventSubsiding, EventEnded:
	default:
		return Invalid(f("type"), "must be one of attack.started, attack.updated, attack.mitigating, attack.subsiding, attack.ended, monitor.down, monitor.up")
	}
	switch e.Phase {
	case PhaseDetected, PhaseMitigating, PhaseSubsiding, PhaseEnded:
	default:
		return Invalid(f("phase"), "must be one of detected, mitigating, subsiding, ended")
	}
	if err := CheckText(f("title"), e.Title, MaxTitleLen, false); err != nil {
		return err
	}
	return CheckText(f("classification"), e.Classification, 64, false)
}

// checkMonitorEvent validates an agent's check state change.
func checkMonitorEvent(f func(string) string, e *AttackEvent, now time.Time) error {
	switch {
	case e.ID == "" || len(e.ID) > 128:
		return Invalid(f("id"), "is required (at most 128 characters)")
	case e.Check == nil:
		return Invalid(f("check"), "is required on %s events", e.Type)
	case !HasPrefix(e.Check.CheckID, PrefixCheck) || len(e.Check.CheckID) > 64:
		return Invalid(f("check.check_id"), "must be a check id (chk_…)")
	case e.Check.At.IsZero() || e.Check.At.Before(now.Add(-MaxEventAge)) || e.Check.At.After(now.Add(MaxEventLead)):
		return Invalid(f("check.at"), "must be within 30 days before and an hour after the server's clock: check the agent's clock")
	case e.Check.Up != (e.Type == EventMonitorUp):
		return Invalid(f("check.up"), "must be %v on a %s event", e.Type == EventMonitorUp, e.Type)
	case e.Check.LatencyMS < 0 || e.Check.LatencyMS > 3600e3:
		return Invalid(f("check.latency_ms"), "must be 0 to 3600000")
	}
	if err := CheckText(f("check.error"), e.Check.Error, 1000, false); err != nil {
		return err
	}
	return CheckText(f("check.warning"), e.Check.Warning, 1000, false)
}

// CaptureInfo describes an attack's capture: a pcapng of the packet
// headers from before its onset and its first seconds.
type CaptureInfo struct {
	Size      int64     `json:"size"`
	Packets   int64     `json:"packets"`
	CreatedAt time.Time `json:"created_at"`
}
