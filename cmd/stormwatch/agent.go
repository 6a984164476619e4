package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/agent"
	"github.com/stormwatch/stormwatch/internal/bgpspeaker"
	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/detect"
	"github.com/stormwatch/stormwatch/internal/mitigation"
	"github.com/stormwatch/stormwatch/internal/pcapring"
	"github.com/stormwatch/stormwatch/internal/secret"
)

// agentFlags binds the detection settings to flags.
type agentFlags struct {
	d                                          detect.Settings
	attackPPS, attackBPS                       config.Rate
	pps, bps, udp, syn, icmp, frag, gre, amp   config.Rate
	prefixPPS, prefixBPS, minPPS, minBPS, link config.Rate
	severity                                   string
	prefixes                                   config.StringList
}

func (f *agentFlags) register(fs *flag.FlagSet) {
	def := detect.DefaultSettings()
	f.d = def
	rate := func(r *config.Rate, name string, v uint64, usage string) {
		*r = config.Rate(v)
		fs.Var(r, name, usage)
	}
	fs.Var(&f.prefixes, "prefix", "protected `CIDR` (repeatable; traffic to other addresses is ignored)")
	rate(&f.attackPPS, "attack-pps", def.AttackPPS, "attack-shaped packets/s to one address that make an attack: traffic it did not ask for (handshakes never completed, replies to requests it never made, packets of connections it is not in)")
	rate(&f.attackBPS, "attack-bps", def.AttackBPS, "attack-shaped bits/s to one address that make an attack, e.g. 50M")
	rate(&f.pps, "threshold-pps", def.PPS, "last resort: packets/s of any traffic to one address that make an attack (0 turns it off)")
	rate(&f.bps, "threshold-bps", def.BPS, "last resort: bits/s of any traffic to one address, e.g. 8G (0, the default, turns it off)")
	rate(&f.udp, "threshold-udp-pps", def.UDPPPS, "also an attack above this many unanswered UDP packets/s (0: off)")
	rate(&f.syn, "threshold-syn-pps", def.SYNPPS, "also an attack above this many unanswered SYNs/s (0: off)")
	rate(&f.icmp, "threshold-icmp-pps", def.ICMPPPS, "also an attack above this many unsolicited ICMP packets/s (0: off)")
	rate(&f.frag, "threshold-fragment-pps", def.FragmentPPS, "also an attack above this many unexplained IP fragments/s (0: off)")
	rate(&f.gre, "threshold-gre-pps", def.GREPPS, "also an attack above this many unsolicited GRE packets/s (0: off)")
	rate(&f.amp, "threshold-amplification-pps", def.AmplificationPPS, "also an attack above this many unsolicited packets/s from amplification services (DNS, NTP, …; 0: off)")
	rate(&f.prefixPPS, "threshold-prefix-pps", 0, "attack-shaped packets/s to a whole prefix (carpet bombing); 0 means 2× --attack-pps")
	rate(&f.prefixBPS, "threshold-prefix-bps", 0, "attack-shaped bits/s to a whole prefix; 0 means 2× --attack-bps")
	fs.Uint64Var(&f.d.CarpetMinTargets, "carpet-min-targets", def.CarpetMinTargets, "distinct destinations that make prefix-wide traffic carpet bombing")
	fs.DurationVar(&f.d.Learn, "learn", def.Learn, "traffic seen before learned baselines apply")
	fs.Float64Var(&f.d.Sigma, "baseline-sigma", def.Sigma, "learned threshold: mean + this many standard deviations")
	fs.Float64Var(&f.d.Factor, "baseline-factor", def.Factor, "learned threshold: at least this many times the mean")
	rate(&f.minPPS, "baseline-min-pps", def.MinPPS, "learned thresholds never fire below this packet rate")
	rate(&f.minBPS, "baseline-min-bps", def.MinBPS, "learned thresholds never fire below this bit rate")
	fs.DurationVar(&f.d.Onset, "onset", def.Onset, "anomalous this long before attack.started")
	fs.DurationVar(&f.d.Subsiding, "subsiding", def.Subsiding, "under half the peak this long before attack.subsiding")
	fs.DurationVar(&f.d.HoldDown, "hold-down", def.HoldDown, "under threshold this long before attack.ended")
	fs.DurationVar(&f.d.Reonset, "reonset", def.Reonset, "a new onset this soon after the end continues the same attack")
	fs.DurationVar(&f.d.UpdateEvery, "update-every", def.UpdateEvery, "attack.updated period while an attack lasts")
	rate(&f.link, "link-capacity", def.LinkBPS, "capacity of the protected link in bits/s, for severity, e.g. 10G")
	fs.IntVar(&f.d.MaxHosts, "max-hosts", def.MaxHosts, "addresses tracked one by one (about 7 KiB each); beyond, new ones count for their prefix only")
	fs.UintVar(&f.d.FlowTableBits, "flow-table-bits", def.FlowTableBits, "conversations remembered: 2^bits per table (18: 262,144, 4 MiB each)")
	fs.StringVar(&f.severity, "severity-ratios", "1,2.5,25", "magnitudes over the limit crossed that make an attack medium, high, critical")
}

func (f *agentFlags) settings() (detect.Settings, error) {
	s := f.d
	s.AttackPPS, s.AttackBPS = uint64(f.attackPPS), uint64(f.attackBPS)
	s.PPS, s.BPS, s.UDPPPS, s.SYNPPS, s.ICMPPPS = uint64(f.pps), uint64(f.bps), uint64(f.udp), uint64(f.syn), uint64(f.icmp)
	s.FragmentPPS, s.GREPPS, s.AmplificationPPS = uint64(f.frag), uint64(f.gre), uint64(f.amp)
	s.PrefixPPS, s.PrefixBPS, s.MinPPS, s.MinBPS, s.LinkBPS = uint64(f.prefixPPS), uint64(f.prefixBPS), uint64(f.minPPS), uint64(f.minBPS), uint64(f.link)
	for _, p := range f.prefixes {
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return s, &config.Error{Msg: fmt.Sprintf("prefix: %q is not a CIDR such as 203.0.113.0/24", p)}
		}
		s.Prefixes = append(s.Prefixes, pre)
	}
	parts := strings.Split(f.severity, ",")
	if len(parts) != 3 {
		return s, &config.Error{Msg: "severity-ratios: want three numbers such as 1,2.5,25"}
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v <= 0 {
			return s, &config.Error{Msg: fmt.Sprintf("severity-ratios: %q is not a positive number", p)}
		}
		s.SeverityRatios[i] = v
	}
	if err := s.Validate(); err != nil {
		return s, &config.Error{Msg: err.Error()}
	}
	return s, nil
}

// parseSpeed reads --replay-speed: 1x, 10x, 0.5x or max.
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || v <= 0 {
		return 0, &config.Error{Msg: fmt.Sprintf("replay-speed: %q is not 1x, 10x, … or max", s)}
	}
	return v, nil
}

func runAgent(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("agent", "stormwatch agent --server URL --token TOKEN --prefix CIDR (--interface NAME | --netflow ADDR | --sflow ADDR | --pcap FILE) [flags]", `
Runs a node's agent: runs the checks (monitors) the server gives this node
and reports their results, and reads traffic, detects and classifies attacks on the
protected prefixes, and reports every step of an attack to the server
(attack.started with severity and classification, then updated,
mitigating, subsiding, ended). Events are kept in a durable spool under
--spool-dir until the server has them, so a server outage or an agent
restart loses nothing; heartbeats report the traffic every few seconds.

Sources: --interface captures live with AF_PACKET (a TPACKET_V3 ring,
promiscuous, several interfaces allowed; needs CAP_NET_RAW); --sflow and
--netflow collect flow exports from routers (sampling rates applied; use
active timeouts of 1-2 s on NetFlow/IPFIX exporters); --pcap
replays a pcap or pcapng capture, with detection on the capture's own
timestamps so that any --replay-speed gives the same result, and the agent
exits once the replay is reported in full. With no source and no
--prefix, the agent is a probe node: it only runs checks.

Checks (HTTP, TCP, ICMP, DNS, UDP game queries) are defined on the server
(POST /api/v1/checks with "nodes": ["this node's name"] or ["*"]); the
agent learns them from each heartbeat's answer, runs each every its
interval, and reports a change of state through the durable spool and its
runs (latency, failures) with the next heartbeat. ICMP checks use an
unprivileged ping socket where net.ipv4.ping_group_range allows it, a raw
socket (CAP_NET_RAW) otherwise. A node may also declare checks in a YAML
file (--checks): the server adds each to the workspace, run from this node;
the same file on several nodes is one check seen from several locations:

  - name: website https
    component: web
    type: http
    target: https://www.example.com/health
    body_match: Welcome
  - name: game port
    component: eu-game-01
    type: udp
    target: 203.0.113.7:27015
    payload: a2s

Evidence: the agent keeps the last --capture-window (10s) of packet
headers (128 bytes each; flow sources: their records, as frames made
from them) to the protected prefixes in --capture-memory (16 MiB; past
it one packet in N is kept); each attack leaves a pcapng of the packets
to its target from that window before the onset to --capture-after (5s)
after it, kept in the spool and uploaded with the attack
(GET /api/v1/attacks/{id}/pcap on the server).

Mitigation: --bgp FILE gives the agent BGP sessions (GoBGP, built in) and
a policy: blackhole routes (RTBH 65535:666) and FlowSpec rules for the
attack's vector, announced when an attack starts, withdrawn after it
ended and the policy's hold passed, and on a clean shutdown.

Detection looks at both directions: per protected address it counts
attack-shaped traffic, what the address did not ask for — SYNs whose
handshake never completes, SYN-ACKs, ACKs and RSTs of connections it
never opened, UDP from endpoints it never sent to and does not answer
(named by the amplification service or the port it comes from),
fragments of such datagrams, ICMP and GRE it did not ask for — and
raises an attack at 10 kpps or 50 Mbit/s of it (--attack-pps,
--attack-bps). Busy normal traffic, however fast, is asked for and
raises nothing. All traffic to one address over --threshold-pps (2M;
and --threshold-bps, off by default) is the last resort for what no
signature explains. After --learn, each address's own attack-shaped traffic sets
its limit (mean + sigma·sd, at least factor·mean, never below the
floors). Rates take k, M, G (10k, 50M). Severity: the magnitude over the
limit crossed (--severity-ratios: medium at the limit, high at 2.5×,
critical at 25×) or the share of --link-capacity used (20/50/90 %).`, `
  stormwatch agent --server https://status.example.com --token swn_… \
    --prefix 203.0.113.0/24 --interface eth1
  stormwatch agent --server https://status.example.com --token swn_… \
    --prefix 203.0.113.0/24 --netflow 0.0.0.0:2055 --sflow 0.0.0.0:6343
  stormwatch agent --server https://status.example.com --token swn_… \
    --prefix 203.0.113.0/24 --pcap attack.pcap --replay-speed 10x
  stormwatch agent --server https://status.example.com --token swn_…   # a probe node: checks only
  STORMWATCH_TOKEN=swn_… stormwatch agent --server http://127.0.0.1:8080 --prefix 203.0.113.0/24 \
    --pcap capture.pcapng --attack-pps 20k --attack-bps 100M --link-capacity 10G \
    --mitigation-command "/usr/local/bin/blackhole --from-stdin"`, stderr)
	var af agentFlags
	af.register(fs)
	server := fs.String("server", "", "`URL` of the stormwatch server (required)")
	token := fs.String("token", "", "the node's `token` (swn_…) from POST /api/v1/nodes (required)")
	pcap := fs.String("pcap", "", "replay this pcap or pcapng `file`")
	var ifaces config.StringList
	fs.Var(&ifaces, "interface", "capture live from this network `interface` with AF_PACKET (repeatable; needs CAP_NET_RAW)")
	sflowAddr := fs.String("sflow", "", "collect sFlow v5 on this UDP `host:port` (e.g. 0.0.0.0:6343)")
	netflowAddr := fs.String("netflow", "", "collect NetFlow v5/v9 and IPFIX on this UDP `host:port` (e.g. 0.0.0.0:2055)")
	flowSampling := fs.Uint("flow-sampling", 1, "sampling `rate` of NetFlow exporters that do not announce theirs")
	speed := fs.String("replay-speed", "1x", "`speed` of --pcap: 1x recorded timing, 10x ten times faster, max as fast as possible")
	spoolDir := fs.String("spool-dir", "./agent-spool", "`directory` of the durable event spool")
	heartbeat := fs.Duration("heartbeat", 5*time.Second, "heartbeat period")
	mitCmd := fs.String("mitigation-command", "", "`command` run when an attack starts, with the event as JSON on stdin")
	mitURL := fs.String("mitigation-url", "", "`URL` that gets the event as a JSON POST when an attack starts")
	ringWindow := fs.Duration("capture-window", pcapring.DefaultWindow, "keep this much of the protected prefixes' packet headers (or flow records) in memory; each attack uploads a pcapng from this long before its onset (0 turns the capture off)")
	ringBytes := fs.Int("capture-memory", pcapring.DefaultMaxBytes>>20, "`MiB` the capture ring may use: past it, the ring keeps one packet in N")
	captureAfter := fs.Duration("capture-after", agent.DefaultCaptureAfter, "how much after an attack's onset its capture keeps")
	bgpFile := fs.String("bgp", "", "YAML `file` of the node's BGP sessions and mitigation policy: blackhole (RTBH) and FlowSpec announcements when attacks start, withdrawn after they end (see the README's Mitigation section)")
	checksFile := fs.String("checks", "", "YAML `file` of checks this node declares (the fields of POST /api/v1/checks without nodes); the server adds them, run from this node")
	var logc config.Log
	logc.Register(fs)
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	if err := logc.Validate(); err != nil {
		return err
	}
	if u, err := url.Parse(*server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &config.Error{Msg: fmt.Sprintf("server: %q is not an http(s) URL", *server)}
	}
	if !secret.HasKind(*token, secret.KindNodeToken) {
		return &config.Error{Msg: "token: want the node token (swn_… from POST /api/v1/nodes)"}
	}
	flows := *sflowAddr != "" || *netflowAddr != ""
	sources := 0
	for _, on := range []bool{*pcap != "", len(ifaces) > 0, flows} {
		if on {
			sources++
		}
	}
	if sources > 1 {
		return &config.Error{Msg: "source: give one of --pcap FILE, --interface NAME (repeatable), or --sflow/--netflow ADDR"}
	}
	probeOnly := sources == 0
	if probeOnly && len(af.prefixes) == 0 {
		// No traffic source and nothing to protect: a probe node, which
		// only runs the checks the server gives it.
		af.prefixes = config.StringList{"192.0.2.0/32"}
	} else if probeOnly {
		return &config.Error{Msg: "source: give one of --pcap FILE, --interface NAME (repeatable), or --sflow/--netflow ADDR to protect --prefix (or neither, for a node that only runs checks)"}
	}
	var declared []sw.Check
	if *checksFile != "" {
		var err error
		if declared, err = agent.LoadChecks(*checksFile); err != nil {
			return &config.Error{Msg: "checks: " + err.Error()}
		}
	}
	sp, err := parseSpeed(*speed)
	if err != nil {
		return err
	}
	settings, err := af.settings()
	if err != nil {
		return err
	}
	var source agent.Source
	if probeOnly {
		source = agent.NoTraffic{}
	} else if *pcap != "" {
		if _, err := os.Stat(*pcap); err != nil {
			return &config.Error{Msg: fmt.Sprintf("pcap: %v", err)}
		}
		source = &agent.PcapSource{Path: *pcap, Speed: sp}
	} else if flows {
		fsrc := &agent.FlowSource{}
		defer func() {
			for _, c := range fsrc.Collectors {
				c.Close()
			}
		}()
		for kind, addr := range map[string]string{capture.FlowSFlow: *sflowAddr, capture.FlowNetFlow: *netflowAddr} {
			if addr == "" {
				continue
			}
			c, err := capture.ListenFlows(kind, addr, uint32(*flowSampling))
			if err != nil {
				return err
			}
			fsrc.Collectors = append(fsrc.Collectors, c)
		}
		source = fsrc
	} else {
		live := &agent.LiveSource{}
		defer func() {
			for _, c := range live.Captures {
				c.Close()
			}
		}()
		for _, name := range ifaces {
			c, err := capture.OpenLive(name)
			if err != nil {
				return err
			}
			live.Captures = append(live.Captures, c)
		}
		source = live
	}
	if *ringWindow < 0 || *ringWindow > 5*time.Minute {
		return &config.Error{Msg: fmt.Sprintf("capture-window: %s is not between 0 (off) and 5m", *ringWindow)}
	}
	if *ringBytes < 1 || *ringBytes > 4096 {
		return &config.Error{Msg: fmt.Sprintf("capture-memory: %d is not between 1 and 4096 MiB", *ringBytes)}
	}
	if *captureAfter < 0 || *captureAfter > time.Minute {
		return &config.Error{Msg: fmt.Sprintf("capture-after: %s is not between 0 and 1m", *captureAfter)}
	}
	// Packet sources feed the pre-attack ring with headers, flow sources
	// with frames made from their records.
	var ring *pcapring.Ring
	if *ringWindow > 0 && !probeOnly {
		ring = pcapring.New(*ringWindow, *ringBytes<<20, settings.Prefixes)
		switch src := source.(type) {
		case *agent.PcapSource:
			src.Tap = ring
		case *agent.LiveSource:
			for _, c := range src.Captures {
				c.Tap = ring
			}
		case *agent.FlowSource:
			src.Ring = ring
		}
	}
	var bgpConf *bgpFileConfig
	if *bgpFile != "" {
		if bgpConf, err = loadBGP(*bgpFile); err != nil {
			return err
		}
	}
	spool, err := agent.OpenSpool(*spoolDir)
	if err != nil {
		return err
	}
	defer spool.Close()
	log := logc.Logger(os.Stderr)
	client := agent.NewClient(*server, *token)
	var speaker *bgpspeaker.Speaker
	if bgpConf != nil {
		peers := make([]string, len(bgpConf.Peers))
		for i, p := range bgpConf.Peers {
			peers[i] = p.Address
		}
		watch := agent.NewPeerWatch(ctx, client, log, peers, time.Minute)
		onPeer := func(peer string, established bool, detail string) { watch.Observe(ctx, peer, established, detail) }
		var stale []mitigation.Announcement
		speaker, stale, err = bgpspeaker.Start(ctx, bgpConf.Config, filepath.Join(*spoolDir, "bgp-announced.json"), log, onPeer)
		if err != nil {
			return err
		}
		for _, a := range stale {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_ = client.ReportMitigation(rctx, agent.MitigationReport{Action: "withdraw", Route: a.Kind + " " + a.Target.String() + " " + a.Match,
				Error: "left announced by an earlier run of this agent"})
			cancel()
		}
		defer func() {
			// A clean shutdown withdraws everything announced.
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := speaker.Close(cctx); err != nil {
				log.Error("bgp: withdraw on shutdown", "err", err)
			}
		}()
	}
	cfg := agent.Config{Detect: settings, Source: source, Spool: spool,
		Client: client, Heartbeat: *heartbeat, Log: log, Version: version, ExitWhenDone: *pcap != "", Declared: declared,
		Mitigation: agent.Mitigation{Command: strings.Fields(*mitCmd), URL: *mitURL}, Ring: ring, CaptureAfter: *captureAfter}
	if speaker != nil {
		cfg.BGP, cfg.BGPPolicy, cfg.BGPDryRun = speaker, bgpConf.Policy, bgpConf.Config.DryRun
	}
	a := agent.New(cfg)
	log.Info("agent started", "source", source.Name(), "prefixes", af.prefixes.String(), "pending", spool.Pending())
	if err := a.Run(ctx); err != nil {
		return err
	}
	log.Info("agent stopped", "pending", spool.Pending())
	return nil
}

// bgpFileConfig is the --bgp file: the speaker's sessions and the
// mitigation policy.
type bgpFileConfig struct {
	bgpspeaker.Config `yaml:",inline"`
	Policy            mitigation.Policy `yaml:"policy"`
}

// loadBGP reads and checks the --bgp file; a policy left out is the
// default one.
func loadBGP(path string) (*bgpFileConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &config.Error{Msg: "bgp: " + err.Error()}
	}
	var c bgpFileConfig
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, &config.Error{Msg: fmt.Sprintf("bgp: %s: %v", path, err)}
	}
	if len(c.Policy.Rules) == 0 {
		def := mitigation.DefaultPolicy()
		c.Policy.Rules = def.Rules
	}
	if c.Policy.Hold == 0 {
		c.Policy.Hold = mitigation.DefaultHold
	}
	if c.Policy.MaxBlackholes == 0 {
		c.Policy.MaxBlackholes = mitigation.DefaultMaxBlackholes
	}
	if err := c.Config.Check(); err != nil {
		return nil, &config.Error{Msg: fmt.Sprintf("bgp: %s: %v", path, err)}
	}
	if err := c.Policy.Check(); err != nil {
		return nil, &config.Error{Msg: fmt.Sprintf("bgp: %s: policy.%v", path, err)}
	}
	return &c, nil
}
