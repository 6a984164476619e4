// Package bgpspeaker announces mitigations upstream with GoBGP used as a
// library (no daemon to install): blackhole routes and FlowSpec rules to
// the node's BGP peers, a list of what is announced kept on disk so that
// a restarted agent withdraws what it announced before, and the peers'
// session state reported to whoever watches.
package bgpspeaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"

	"github.com/stormwatch/stormwatch/internal/mitigation"
)

// Peer is one BGP neighbour.
type Peer struct {
	Address string `yaml:"address"`
	AS      uint32 `yaml:"as"`
	// LocalAddress is the address to speak from (default: the route's).
	LocalAddress string `yaml:"local_address"`
	// Port is the neighbour's BGP port (default 179).
	Port uint32 `yaml:"port"`
}

// Config is the node's BGP speaker.
type Config struct {
	RouterID string `yaml:"router_id"`
	LocalAS  uint32 `yaml:"local_as"`
	Peers    []Peer `yaml:"peers"`
	// NextHop (and NextHop6) are the blackhole routes' next hops; the
	// peer maps the RTBH community to its discard route.
	NextHop  string `yaml:"next_hop"`
	NextHop6 string `yaml:"next_hop6"`
	// DryRun logs what would be announced and announces nothing.
	DryRun bool `yaml:"dry_run"`
}

// Check validates the configuration, naming the key at fault.
func (c *Config) Check() error {
	if _, err := netip.ParseAddr(c.RouterID); err != nil || !netip.MustParseAddr(c.RouterID).Is4() {
		return fmt.Errorf("router_id: %q is not an IPv4 address", c.RouterID)
	}
	if c.LocalAS == 0 {
		return errors.New("local_as: required")
	}
	if len(c.Peers) == 0 {
		return errors.New("peers: at least one")
	}
	for i, p := range c.Peers {
		if _, err := netip.ParseAddr(p.Address); err != nil {
			return fmt.Errorf("peers[%d].address: %q is not an address", i, p.Address)
		}
		if p.AS == 0 {
			return fmt.Errorf("peers[%d].as: required", i)
		}
		if p.LocalAddress != "" {
			if _, err := netip.ParseAddr(p.LocalAddress); err != nil {
				return fmt.Errorf("peers[%d].local_address: %q is not an address", i, p.LocalAddress)
			}
		}
	}
	if c.NextHop == "" {
		c.NextHop = c.RouterID
	}
	if a, err := netip.ParseAddr(c.NextHop); err != nil || !a.Is4() {
		return fmt.Errorf("next_hop: %q is not an IPv4 address", c.NextHop)
	}
	if c.NextHop6 != "" {
		if a, err := netip.ParseAddr(c.NextHop6); err != nil || !a.Is6() {
			return fmt.Errorf("next_hop6: %q is not an IPv6 address", c.NextHop6)
		}
	}
	return nil
}

// Speaker announces and withdraws mitigations.
type Speaker struct {
	cfg   Config
	srv   *server.BgpServer
	log   *slog.Logger
	state string // the file listing what is announced

	mu        sync.Mutex
	announced map[string]mitigation.Announcement
}

// PeerState is told of each change of a peer's session.
type PeerState func(peer string, established bool, detail string)

// Start starts the speaker and its sessions. stateFile keeps the list of
// announcements: what an earlier run left there is withdrawn first, and
// returned.
func Start(ctx context.Context, cfg Config, stateFile string, log *slog.Logger, onPeer PeerState) (*Speaker, []mitigation.Announcement, error) {
	s := &Speaker{cfg: cfg, log: log, state: stateFile, announced: map[string]mitigation.Announcement{}}
	s.srv = server.NewBgpServer(server.LoggerOption(logAdapter{log}))
	go s.srv.Serve()
	if err := s.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{Asn: cfg.LocalAS, RouterId: cfg.RouterID, ListenPort: -1}}); err != nil {
		s.srv.Stop()
		return nil, nil, fmt.Errorf("bgp: start: %w", err)
	}
	err := s.srv.WatchEvent(ctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, func(r *api.WatchEventResponse) {
		p := r.GetPeer()
		if p == nil || p.Type != api.WatchEventResponse_PeerEvent_STATE || p.Peer == nil || p.Peer.State == nil || onPeer == nil {
			return
		}
		st := p.Peer.State
		onPeer(p.Peer.Conf.GetNeighborAddress(), st.SessionState == api.PeerState_ESTABLISHED, st.SessionState.String())
	})
	if err != nil {
		s.srv.Stop()
		return nil, nil, fmt.Errorf("bgp: watch: %w", err)
	}
	families := []*api.Family{
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST}, {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST},
	}
	for _, p := range cfg.Peers {
		// Graceful restart: when the agent dies, the peer keeps its
		// routes (a blackhole stays up through a crash) for RestartTime,
		// and the restarted agent's end-of-RIB clears what it no longer
		// announces.
		peer := &api.Peer{Conf: &api.PeerConf{NeighborAddress: p.Address, PeerAsn: p.AS},
			Timers:          &api.Timers{Config: &api.TimersConfig{ConnectRetry: 1, HoldTime: 30, KeepaliveInterval: 10}},
			GracefulRestart: &api.GracefulRestart{Enabled: true, RestartTime: 120}}
		if p.LocalAddress != "" || p.Port != 0 {
			peer.Transport = &api.Transport{LocalAddress: p.LocalAddress, RemotePort: p.Port}
		}
		for _, f := range families {
			peer.AfiSafis = append(peer.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true},
				MpGracefulRestart: &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}})
		}
		if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: peer}); err != nil {
			s.srv.Stop()
			return nil, nil, fmt.Errorf("bgp: peer %s: %w", p.Address, err)
		}
	}
	stale, err := s.load()
	if err != nil {
		s.srv.Stop()
		return nil, nil, err
	}
	for _, a := range stale {
		// The old sessions are gone and took their routes with them, or
		// the peer keeps them stale for a graceful restart: withdrawing
		// makes sure, and says so.
		if path, fam, err := s.path(a, true); err == nil && !cfg.DryRun {
			_ = s.srv.DeletePath(ctx, &api.DeletePathRequest{Family: fam, Path: path})
		}
		log.Warn("withdrew an announcement left by an earlier run", "kind", a.Kind, "target", a.Target, "match", a.Match)
	}
	return s, stale, s.save()
}

// Announce announces a (or, dry, logs it).
func (s *Speaker) Announce(ctx context.Context, a mitigation.Announcement) error {
	path, _, err := s.path(a, false)
	if err != nil {
		return err
	}
	if s.cfg.DryRun {
		s.log.Info("dry run: would announce", "kind", a.Kind, "target", a.Target, "match", a.Match, "communities", a.Communities)
	} else if _, err := s.srv.AddPath(ctx, &api.AddPathRequest{Path: path}); err != nil {
		return fmt.Errorf("bgp: announce %s %s: %w", a.Kind, a.Target, err)
	}
	s.mu.Lock()
	s.announced[a.Key()] = a
	s.mu.Unlock()
	return s.save()
}

// Withdraw withdraws a.
func (s *Speaker) Withdraw(ctx context.Context, a mitigation.Announcement) error {
	path, fam, err := s.path(a, true)
	if err != nil {
		return err
	}
	if s.cfg.DryRun {
		s.log.Info("dry run: would withdraw", "kind", a.Kind, "target", a.Target, "match", a.Match)
	} else if err := s.srv.DeletePath(ctx, &api.DeletePathRequest{Family: fam, Path: path}); err != nil {
		return fmt.Errorf("bgp: withdraw %s %s: %w", a.Kind, a.Target, err)
	}
	s.mu.Lock()
	delete(s.announced, a.Key())
	s.mu.Unlock()
	return s.save()
}

// Announced lists what is announced now.
func (s *Speaker) Announced() []mitigation.Announcement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]mitigation.Announcement, 0, len(s.announced))
	for _, a := range s.announced {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Close withdraws everything announced and ends the sessions.
func (s *Speaker) Close(ctx context.Context) error {
	var errs []error
	for _, a := range s.Announced() {
		if err := s.Withdraw(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	// Give the withdrawals a moment to leave before the sessions end.
	time.Sleep(200 * time.Millisecond)
	if err := s.srv.StopBgp(ctx, &api.StopBgpRequest{}); err != nil {
		errs = append(errs, err)
	}
	s.srv.Stop()
	return errors.Join(errs...)
}

// path builds the GoBGP path of a.
func (s *Speaker) path(a mitigation.Announcement, withdraw bool) (*api.Path, *api.Family, error) {
	v4 := a.Target.Addr().Is4()
	origin := bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)
	var nlri bgp.AddrPrefixInterface
	var attrs []bgp.PathAttributeInterface
	var fam *api.Family
	switch a.Kind {
	case "blackhole":
		if v4 {
			nlri = bgp.NewIPAddrPrefix(uint8(a.Target.Bits()), a.Target.Addr().String())
			attrs = []bgp.PathAttributeInterface{origin, bgp.NewPathAttributeNextHop(s.cfg.NextHop)}
			fam = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
		} else {
			if s.cfg.NextHop6 == "" {
				return nil, nil, fmt.Errorf("bgp: blackhole %s: no next_hop6 for IPv6", a.Target)
			}
			nlri = bgp.NewIPv6AddrPrefix(uint8(a.Target.Bits()), a.Target.Addr().String())
			attrs = []bgp.PathAttributeInterface{origin, bgp.NewPathAttributeMpReachNLRI(s.cfg.NextHop6, []bgp.AddrPrefixInterface{nlri})}
			fam = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
		}
		attrs = append(attrs, bgp.NewPathAttributeCommunities(a.Communities))
	case "flowspec":
		rf, nh := bgp.RF_FS_IPv4_UC, "0.0.0.0"
		fam = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST}
		if !v4 {
			rf, nh = bgp.RF_FS_IPv6_UC, "::"
			fam = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST}
		}
		rules, err := bgp.ParseFlowSpecComponents(rf, a.Match)
		if err != nil {
			return nil, nil, fmt.Errorf("bgp: flowspec %q: %w", a.Match, err)
		}
		if v4 {
			nlri = bgp.NewFlowSpecIPv4Unicast(rules)
		} else {
			nlri = bgp.NewFlowSpecIPv6Unicast(rules)
		}
		attrs = []bgp.PathAttributeInterface{origin, bgp.NewPathAttributeMpReachNLRI(nh, []bgp.AddrPrefixInterface{nlri}),
			bgp.NewPathAttributeExtendedCommunities([]bgp.ExtendedCommunityInterface{bgp.NewTrafficRateExtended(0, a.Rate)})}
	default:
		return nil, nil, fmt.Errorf("bgp: unknown announcement %q", a.Kind)
	}
	path, err := apiutil.NewPath(nlri, withdraw, attrs, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("bgp: %s %s: %w", a.Kind, a.Target, err)
	}
	return path, fam, nil
}

// load reads the list an earlier run left.
func (s *Speaker) load() ([]mitigation.Announcement, error) {
	raw, err := os.ReadFile(s.state)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bgp: %w", err)
	}
	var list []mitigation.Announcement
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("bgp: %s is damaged: %w", s.state, err)
	}
	return list, nil
}

// save writes what is announced now, durably: a crash right after an
// announcement must leave it listed.
func (s *Speaker) save() error {
	raw, _ := json.Marshal(s.Announced()) // announcements always encode
	if err := os.MkdirAll(filepath.Dir(s.state), 0o750); err != nil {
		return fmt.Errorf("bgp: %w", err)
	}
	tmp := s.state + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("bgp: %w", err)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bgp: %w", err)
	}
	return os.Rename(tmp, s.state)
}

// logAdapter hands GoBGP's logs to slog, at debug below warnings.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) attrs(f gobgplog.Fields) []any {
	out := make([]any, 0, 2*len(f))
	for k, v := range f {
		out = append(out, k, v)
	}
	return out
}
func (l logAdapter) Panic(msg string, f gobgplog.Fields) { l.log.Error("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) Fatal(msg string, f gobgplog.Fields) { l.log.Error("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) Error(msg string, f gobgplog.Fields) { l.log.Error("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) Warn(msg string, f gobgplog.Fields)  { l.log.Warn("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) Info(msg string, f gobgplog.Fields)  { l.log.Debug("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) Debug(msg string, f gobgplog.Fields) { l.log.Debug("bgp: "+msg, l.attrs(f)...) }
func (l logAdapter) SetLevel(gobgplog.LogLevel)          {}
func (l logAdapter) GetLevel() gobgplog.LogLevel         { return gobgplog.InfoLevel }
