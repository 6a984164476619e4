package stormwatch

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PrefixCheck names check ids.
const PrefixCheck = "chk_"

// Check types.
const (
	CheckHTTP = "http" // HTTP(S) request: status, body, certificate
	CheckTCP  = "tcp"  // TCP connect
	CheckICMP = "icmp" // ICMP echo
	CheckDNS  = "dns"  // DNS query with an expected answer
	CheckUDP  = "udp"  // one datagram that must be answered (game servers)
)

// UDP payloads known by name: the query a game server answers.
const (
	// PayloadA2S is Valve's A2S_INFO (Source, GoldSrc, Rust, ARK, CS2 and
	// every other Source-query server).
	PayloadA2S = "a2s"
	// PayloadMinecraft is Minecraft Bedrock's unconnected ping (RakNet),
	// answered by an unconnected pong with the server's MOTD.
	PayloadMinecraft = "minecraft"
)

// VectorMonitorDown is the classification of a failing check's signal:
// the rules judge it like an attack (`attack == monitor_down`).
const VectorMonitorDown = "monitor_down"

// Check event types: what an agent reports when one of its checks changes
// state, through the same durable spool as attack events.
const (
	EventMonitorDown = "monitor.down"
	EventMonitorUp   = "monitor.up"
)

// Check limits.
const (
	MinCheckInterval = 5 * time.Second
	MaxCheckInterval = 24 * time.Hour
	MaxCheckFailures = 100
	MaxCheckNodes    = 64
)

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// String writes the duration as Go does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as Go writes it ("1m30s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s", "2m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("want a duration such as \"30s\" or a number of seconds")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 2m or 1h", s)
	}
	*d = Duration(v)
	return nil
}

// Check is a monitor of one component: a probe run every interval from
// the listed nodes (every node with "*", the server itself with none).
// The check is down at a location after Failures consecutive failures and
// up again at the first success; the server judges the locations together.
type Check struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	ComponentID string `json:"component_id"`
	Component   string `json:"component"` // slug
	Name        string `json:"name"`
	Type        string `json:"type"`
	// Target: a URL for http, host:port for tcp and udp, a host for icmp,
	// the name to resolve for dns.
	Target   string   `json:"target"`
	Interval Duration `json:"interval"`
	Timeout  Duration `json:"timeout"`
	Failures int      `json:"failures"`
	// Nodes are the names of the nodes that run the check; "*" is every
	// node; empty means the server runs it.
	Nodes []string `json:"nodes"`

	// HTTP
	Method       string   `json:"method,omitempty"`
	ExpectStatus string   `json:"expect_status,omitempty"` // "200-399" (default), "200", "200,204"
	BodyMatch    string   `json:"body_match,omitempty"`    // a substring the body must hold
	CertExpiry   Duration `json:"cert_expiry,omitempty"`   // warn when the certificate expires sooner
	// DNS: the record type asked for and the server asked (host:port;
	// empty is the system's resolver). Expect is an answer that must be
	// among those returned (dns) or a prefix, in hex, of the reply (udp).
	Record string `json:"record,omitempty"`
	Server string `json:"server,omitempty"`
	Expect string `json:"expect,omitempty"`
	// UDP: a2s, minecraft, or hex bytes.
	Payload string `json:"payload,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// State is how the check stands now, per location (filled on reads).
	State []CheckLocation `json:"state"`
}

// CheckLocation is a check's latest result at one location.
type CheckLocation struct {
	Location   string    `json:"location"` // node name, or "server"
	Up         bool      `json:"up"`
	Since      time.Time `json:"since"`
	ReportedAt time.Time `json:"reported_at"`
	LatencyMS  float64   `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
	Warning    string    `json:"warning,omitempty"`
}

// CheckResult is one run of a check at one location.
type CheckResult struct {
	CheckID   string    `json:"check_id"`
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	LatencyMS float64   `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
	// Warning is a success with a concern (a certificate near expiry).
	Warning string `json:"warning,omitempty"`
	// Up is the location's state after this run (Failures consecutive
	// failures make it down); Runs and Fails count the runs it sums up
	// when a heartbeat carries it.
	Up    bool `json:"up"`
	Runs  int  `json:"runs,omitempty"`
	Fails int  `json:"fails,omitempty"`
}

// MonitorFacts are what a monitor signal knows beyond an attack's fields:
// which check, and how many locations agree it is down.
type MonitorFacts struct {
	CheckID   string `json:"check_id"`
	CheckName string `json:"check"`
	CheckType string `json:"check_type"`
	Locations int    `json:"locations"` // locations that see it down
	Of        int    `json:"of"`        // locations reporting
}

// Defaults fills what a check left unset: 30 s interval, a timeout of
// 10 s (at most the interval), 3 failures, GET expecting 200-399, a
// 14-day certificate warning, A records.
func (c *Check) Defaults() {
	if c.Interval == 0 {
		c.Interval = Duration(30 * time.Second)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(min(10*time.Second, time.Duration(c.Interval)))
	}
	if c.Failures == 0 {
		c.Failures = 3
	}
	if c.Nodes == nil {
		c.Nodes = []string{}
	}
	switch c.Type {
	case CheckHTTP:
		if c.Method == "" {
			c.Method = "GET"
		}
		if c.ExpectStatus == "" {
			c.ExpectStatus = "200-399"
		}
		if c.CertExpiry == 0 {
			c.CertExpiry = Duration(14 * 24 * time.Hour)
		}
	case CheckDNS:
		if c.Record == "" {
			c.Record = "A"
		}
	case CheckUDP:
		if c.Payload == "" {
			c.Payload = PayloadA2S
		}
	}
}

var methodPattern = regexp.MustCompile(`^[A-Z]{3,10}$`)

// DNSRecords are the record types a dns check may ask for.
var DNSRecords = []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT"}

// Validate checks a check after Defaults, naming the field at fault.
func (c *Check) Validate() error {
	if err := CheckText("name", c.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := CheckText("target", c.Target, 2000, true); err != nil {
		return err
	}
	iv, to := time.Duration(c.Interval), time.Duration(c.Timeout)
	switch {
	case iv < MinCheckInterval || iv > MaxCheckInterval:
		return Invalid("interval", "must be between 5s and 24h")
	case to <= 0 || to > iv:
		return Invalid("timeout", "must be more than 0 and at most the interval (%s)", iv)
	case c.Failures < 1 || c.Failures > MaxCheckFailures:
		return Invalid("failures", "must be 1 to %d consecutive failures", MaxCheckFailures)
	case len(c.Nodes) > MaxCheckNodes:
		return Invalid("nodes", "at most %d nodes", MaxCheckNodes)
	}
	for i, n := range c.Nodes {
		if err := CheckText(fmt.Sprintf("nodes[%d]", i), n, MaxNameLen, true); err != nil {
			return err
		}
	}
	switch c.Type {
	case CheckHTTP:
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Invalid("target", "must be an http:// or https:// URL for an http check")
		}
		if !methodPattern.MatchString(c.Method) {
			return Invalid("method", "must be an HTTP method such as GET or HEAD")
		}
		if _, err := ParseStatusRanges(c.ExpectStatus); err != nil {
			return Invalid("expect_status", "%v", err)
		}
		if err := CheckText("body_match", c.BodyMatch, 1000, false); err != nil {
			return err
		}
	case CheckTCP, CheckUDP:
		if _, port, err := net.SplitHostPort(c.Target); err != nil || port == "" || port == "0" {
			return Invalid("target", "must be host:port for a %s check, such as game.example.com:27015", c.Type)
		}
		if c.Type == CheckUDP {
			if _, err := UDPPayload(c.Payload); err != nil {
				return Invalid("payload", "%v", err)
			}
			if _, err := hex.DecodeString(c.Expect); err != nil {
				return Invalid("expect", "must be hex bytes the reply starts with, such as ffffffff49")
			}
		}
	case CheckICMP:
		if strings.ContainsAny(c.Target, "/: ") && net.ParseIP(c.Target) == nil {
			return Invalid("target", "must be a host name or an IP address for an icmp check")
		}
	case CheckDNS:
		if strings.ContainsAny(c.Target, "/: ") {
			return Invalid("target", "must be the name to resolve for a dns check, such as www.example.com")
		}
		known := false
		for _, r := range DNSRecords {
			known = known || r == c.Record
		}
		if !known {
			return Invalid("record", "must be one of %s", strings.Join(DNSRecords, ", "))
		}
		if c.Server != "" {
			if _, _, err := net.SplitHostPort(c.Server); err != nil {
				return Invalid("server", "must be host:port of a DNS server, such as 9.9.9.9:53")
			}
		}
		if err := CheckText("expect", c.Expect, 500, false); err != nil {
			return err
		}
	default:
		return Invalid("type", "must be one of http, tcp, icmp, dns, udp")
	}
	return nil
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// ParseStatusRanges reads "200-399", "200" or "200,204,301-302".
func ParseStatusRanges(s string) ([]StatusRange, error) {
	var out []StatusRange
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 100 || h > 599 || l > h {
			return nil, fmt.Errorf("%q is not a status or range of statuses such as 200, 204 or 200-399", part)
		}
		out = append(out, StatusRange{l, h})
	}
	return out, nil
}

// UDPPayload returns the datagram a udp check sends.
func UDPPayload(p string) ([]byte, error) {
	switch p {
	case PayloadA2S:
		return append([]byte("\xff\xff\xff\xffTSource Engine Query"), 0), nil
	case PayloadMinecraft:
		b := []byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}
		b = append(b, raknetMagic...)
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0), nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(p, "hex:"))
	if err != nil || len(b) == 0 || len(b) > 1400 {
		return nil, fmt.Errorf("must be a2s, minecraft, or 1 to 1400 bytes in hex (hex:ffff…)")
	}
	return b, nil
}

// raknetMagic is the fixed marker of RakNet's offline messages.
var raknetMagic = []byte{0x00, 0xff, 0xff, 0x00, 0xfe, 0xfe, 0xfe, 0xfe, 0xfd, 0xfd, 0xfd, 0xfd, 0x12, 0x34, 0x56, 0x78}

// RunsOn reports whether the node named node runs check c.
func (c *Check) RunsOn(node string) bool {
	for _, n := range c.Nodes {
		if n == "*" || n == node {
			return true
		}
	}
	return false
}
