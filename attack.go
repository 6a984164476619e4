package stormwatch

import (
	"fmt"
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
	VectorUDPFlood      = "udp_flood"
	VectorSYNFlood      = "syn_flood"
	VectorACKFlood      = "ack_flood"
	VectorRSTFINFlood   = "rst_fin_flood"
	VectorTCPFlood      = "tcp_flood"
	VectorICMPFlood     = "icmp_flood"
	VectorFragmentFlood = "fragment_flood"
	VectorGREFlood      = "gre_flood"
	VectorAmplification = "amplification" // Service names the service
	VectorReflection    = "reflection"    // Port names the source port
	VectorCarpet        = "carpet_bombing"
	VectorOther         = "other"
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
	switch v.Type {
	case VectorAmplification:
		for _, s := range Services {
			if s.Key == v.Service {
				return s.Name + " amplification"
			}
		}
	case VectorReflection:
		return fmt.Sprintf("reflection from %s port %d", strings.ToUpper(v.Proto), v.Port)
	case VectorSYNFlood:
		return "SYN flood"
	case VectorACKFlood:
		return "ACK flood"
	case VectorRSTFINFlood:
		return "RST/FIN flood"
	case VectorTCPFlood:
		return "TCP flood"
	case VectorUDPFlood:
		return "UDP flood"
	case VectorICMPFlood:
		return "ICMP flood"
	case VectorFragmentFlood:
		return "IP fragment flood"
	case VectorGREFlood:
		return "GRE flood"
	case VectorCarpet:
		return "carpet bombing"
	}
	return "traffic flood"
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
}
