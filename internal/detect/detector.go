package detect

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// target is a protected address, or a whole prefix (for carpet bombing):
// its per-tick counters, sketches, baselines and attack.
type target struct {
	name   string
	ring   [windowTicks + 1]counters // the window's ticks plus the open one
	cur    int
	window counters // the last windowTicks completed ticks
	rate   counters // per-second rates now: the window, or the last recentTicks scaled when higher
	// sk holds the source sketches; an address gets them only once its
	// traffic nears a threshold, so that many quiet addresses stay cheap.
	sk       *sketches
	dsts     *[2]hll // prefixes only: distinct destinations
	basePPS  baseline
	baseBPS  baseline
	anomaly  int // consecutive anomalous ticks
	attack   *attack
	lastSeen int64 // tick
	prefix   *target
}

// sketches describe a target's sources over the current and the previous
// second: distinct sources, heavy hitters, dominant UDP source ports.
type sketches struct {
	srcs  [2]hll
	heavy [2]heavyAddrs
	ports [2]heavyPorts
}

// sources reports the distinct sources and the top five of the last
// second, or of the second under way (its counts scaled to a second) when
// that one is all there is, as at the start of an attack.
func (k *sketches) sources(tick int64) (uint64, []Source) {
	if top := topSources(&k.heavy[1], 5); len(top) > 0 {
		return k.srcs[1].estimate(), top
	}
	elapsed := uint64(tick%windowTicks) + 1
	top := topSources(&k.heavy[0], 5)
	for i := range top {
		top[i].PPS = top[i].PPS * windowTicks / elapsed
	}
	return k.srcs[0].estimate(), top
}

func (k *sketches) roll() {
	k.srcs[1], k.heavy[1], k.ports[1] = k.srcs[0], k.heavy[0], k.ports[0]
	k.srcs[0].reset()
	k.heavy[0].reset()
	k.ports[0].reset()
}

// noSketches stands in for a quiet target's: empty, never written.
var noSketches sketches

// attack is the lifecycle state of one attack on a target.
type attack struct {
	id                 string
	seq                int
	started, lastAbove time.Time
	lastUpdate, halfAt time.Time
	endedAt            time.Time
	phase              string
	peakPPS, peakBPS   uint64
	vectors            []Vector
	severity           string
	mitigated, ended   bool
	// reason says which limit the onset crossed, and by how much.
	reason string
}

// Detector consumes packets in time order and returns attack events.
// It is not safe for concurrent use; one goroutine feeds it.
type Detector struct {
	s        Settings
	prefixes []*target
	nets     []netip.Prefix
	hosts    map[netip.Addr]*target
	// talked holds the conversations the protected addresses take part
	// in (they sent on them); pending the ones others started that are
	// not answered yet (SYNs, first datagrams); frags the verdicts on
	// datagrams whose later fragments are still to come.
	talked, pending, frags *flowTable
	node                   counters // all traffic to protected addresses in the current tick
	nodeWin                counters
	nodeRing               [windowTicks]counters
	tick                   int64
	started                bool
	// ticksClosed counts ticks closed one by one (not skipped), the
	// detector's work for time passing.
	ticksClosed int64
	learn       int
	events      []Event
}

// New returns a detector for settings s (validate them first).
func New(s Settings) *Detector {
	bits := s.FlowTableBits
	if bits == 0 {
		bits = DefaultSettings().FlowTableBits
	}
	d := &Detector{s: s, hosts: map[netip.Addr]*target{}, learn: int(s.Learn / time.Second),
		talked: newFlowTable(bits), pending: newFlowTable(bits), frags: newFlowTable(max(bits, 12) - 4)}
	for _, p := range s.Prefixes {
		d.nets = append(d.nets, p.Masked())
		d.prefixes = append(d.prefixes, &target{name: p.Masked().String(), dsts: &[2]hll{}, sk: &sketches{}})
	}
	return d
}

// nearThreshold reports whether an address's traffic has reached a
// quarter of a threshold: from then on its sources are worth sketching,
// well before an attack could start.
func (d *Detector) nearThreshold(t *target) bool {
	m, _ := d.magnitude(t, false)
	return m >= 0.25
}

const tickNanos = int64(Tick)

// Observe accounts one packet and returns the events its time caused (the
// ticks it closed). The returned slice is reused by the next call.
// Packets to a protected address are judged and counted; packets from one
// teach what it asked for.
func (d *Detector) Observe(p *Packet) []Event {
	d.events = d.events[:0]
	d.advance(p.At.UnixNano() / tickNanos)
	if d.protected(p.Src) >= 0 {
		d.outbound(p)
	}
	pi := d.protected(p.Dst)
	if pi < 0 {
		return d.events
	}
	pre := d.prefixes[pi]
	v := d.judge(p)
	sh := addrHash(p.Src)
	if h := d.hosts[p.Dst]; h != nil {
		h.account(p, &v, sh, d.tick)
	} else if len(d.hosts) < d.s.MaxHosts {
		h = &target{name: p.Dst.String(), prefix: pre}
		d.hosts[p.Dst] = h
		h.account(p, &v, sh, d.tick)
	}
	// Past MaxHosts, new addresses count for their prefix only (carpet
	// bombing stays visible) until idle ones are forgotten.
	pre.account(p, &v, sh, d.tick)
	if v.sig != noSig {
		pre.dsts[0].add(addrHash(p.Dst))
	}
	d.node[cPkts] += p.Count
	d.node[cBytes] += p.Bytes
	return d.events
}

// protected returns the index of the prefix holding a, or -1.
func (d *Detector) protected(a netip.Addr) int {
	for i, n := range d.nets {
		if n.Contains(a) {
			return i
		}
	}
	return -1
}

func (t *target) account(p *Packet, v *verdict, srcHash uint64, tick int64) {
	c := &t.ring[t.cur]
	n, b := p.Count, p.Bytes
	c[cPkts] += n
	c[cBytes] += b
	t.lastSeen = tick
	if v.sig == noSig {
		return
	}
	c[cSig+v.sig] += n
	c[cSigBytes+v.sig] += b
	if v.service >= 0 {
		c[cService+int(v.service)] += n
		c[cServiceBytes+int(v.service)] += b
	}
	if k := t.sk; k != nil {
		k.srcs[0].add(srcHash)
		k.heavy[0].add(p.Src, srcHash, n)
		if v.sig == sigUDP && v.port != 0 {
			k.ports[0].add(v.port, n)
		}
	}
}

// answered counts, for the protected address a, traffic it answered:
// handshakes completed and unsolicited datagrams it replied to.
func (d *Detector) answered(a netip.Addr, slot int, n, b uint64) {
	if h := d.hosts[a]; h != nil {
		h.ring[h.cur][slot] += n
		if slot == cUDPAnswered {
			h.ring[h.cur][cUDPAnsweredBytes] += b
		}
	}
	if pi := d.protected(a); pi >= 0 {
		pre := d.prefixes[pi]
		pre.ring[pre.cur][slot] += n
		if slot == cUDPAnswered {
			pre.ring[pre.cur][cUDPAnsweredBytes] += b
		}
	}
}

// sketchesFor returns t's sketches, or the empty stand-in.
func (t *target) sketchesFor() *sketches {
	if t.sk == nil {
		return &noSketches
	}
	return t.sk
}

// Flush closes the ticks up to at (the end of a capture, or wall time
// passing with no packets) and returns the events that caused.
func (d *Detector) Flush(at time.Time) []Event {
	d.events = d.events[:0]
	d.advance(at.UnixNano() / tickNanos)
	return d.events
}

// advance closes every tick before tick. Across a long gap (a capture
// stitched from sessions months apart, a live link gone silent) it closes
// ticks only until everything is quiet, then jumps: idle time costs
// nothing, so a replay's cost grows with its packets, not with the time
// its timestamps span.
func (d *Detector) advance(tick int64) {
	if !d.started {
		d.tick, d.started = tick, true
		return
	}
	for d.tick < tick {
		if tick-d.tick > 2*windowTicks && d.tick%windowTicks == 0 && d.quiet() {
			d.skipTo(tick)
			return
		}
		d.closeTick()
		d.ticksClosed++
		d.tick++
	}
}

// quiet reports whether closing more empty ticks would change nothing
// but the clock: no traffic left in any window, no attack under way.
func (d *Detector) quiet() bool {
	if d.nodeWin[cPkts] != 0 || d.node[cPkts] != 0 {
		return false
	}
	for _, t := range d.targets() {
		if t.window[cPkts] != 0 || t.ring[t.cur][cPkts] != 0 || t.anomaly != 0 || (t.attack != nil && !t.attack.ended) {
			return false
		}
	}
	return true
}

// skipTo moves a quiet detector's clock to tick (a whole second, as the
// jump starts on one), doing at once what the skipped empty seconds would
// have done: sketches and rates empty, addresses idle for long forgotten,
// ended attacks past their re-onset window closed. Baselines do not learn
// the skipped seconds: a gap in a capture says nothing of normal traffic.
func (d *Detector) skipTo(tick int64) {
	d.tick = tick
	now := time.Unix(0, tick*tickNanos).UTC()
	for _, t := range d.targets() {
		t.rate = counters{}
		if t.sk != nil {
			t.sk.roll()
			t.sk.roll()
		}
		if t.dsts != nil {
			t.dsts[0].reset()
			t.dsts[1].reset()
		}
		if t.attack != nil && now.Sub(t.attack.endedAt) > d.s.Reonset {
			t.attack = nil
		}
	}
	for addr, h := range d.hosts {
		if h.attack == nil && d.tick-h.lastSeen > int64(5*time.Minute/Tick) {
			delete(d.hosts, addr)
		}
	}
}

// closeTick rolls every window one tick and evaluates the targets.
func (d *Detector) closeTick() {
	now := time.Unix(0, (d.tick+1)*tickNanos).UTC()
	second := (d.tick+1)%windowTicks == 0
	d.nodeWin.plus(&d.node)
	next := (int(d.tick) + 1) % windowTicks
	d.nodeWin.minus(&d.nodeRing[next])
	d.nodeRing[next] = d.node
	d.node = counters{}
	// nodeRing[next] now holds the tick just closed; the slot is reused
	// windowTicks ticks later.

	for addr, h := range d.hosts {
		h.roll(second, d.tick)
		if h.sk == nil && d.nearThreshold(h) {
			h.sk = &sketches{}
		}
		d.evaluate(h, now, false)
		if second && h.attack == nil && h.window[cPkts] == 0 && d.tick-h.lastSeen > int64(5*time.Minute/Tick) {
			delete(d.hosts, addr) // idle: forget it, it relearns if it returns
		}
	}
	for _, p := range d.prefixes {
		p.roll(second, d.tick)
		d.evaluate(p, now, true)
	}
}

func (t *target) roll(second bool, tick int64) {
	t.window.plus(&t.ring[t.cur])
	t.cur = (t.cur + 1) % len(t.ring)
	t.window.minus(&t.ring[t.cur]) // the tick that leaves the window
	t.ring[t.cur] = counters{}
	if second {
		// Baselines learn the address's own attack-shaped traffic while
		// it is not attacked, and only once it has traffic at all.
		if (t.attack == nil || t.attack.ended) && t.lastSeen > tick-windowTicks {
			pps, bytes := t.window.shaped()
			t.basePPS.update(float64(pps))
			t.baseBPS.update(float64(bytes * 8))
		}
		if t.sk != nil {
			t.sk.roll()
		}
		if t.dsts != nil {
			t.dsts[1] = t.dsts[0]
			t.dsts[0].reset()
		}
	}
	// A flood that began a moment ago fills only part of the window; the
	// last few ticks, scaled to a second, show its real rate at once.
	var recent counters
	for i := 1; i <= recentTicks; i++ {
		recent.plus(&t.ring[(t.cur+len(t.ring)-i)%len(t.ring)])
	}
	recent.scale(windowTicks, recentTicks)
	rp, rb := recent.shaped()
	wp, wb := t.window.shaped()
	if rp > wp || rb > wb || recent[cPkts] > t.window[cPkts] {
		t.rate = recent
	} else {
		t.rate = t.window
	}
}

// recentTicks is how many ticks make the "rate now".
const recentTicks = 3

// magnitude is how far the rate is over its limits: the largest
// value/limit over every limit that applies (above 1 is anomalous), and
// which limit that was, for the event's explanation.
func (d *Detector) magnitude(t *target, isPrefix bool) (float64, string) {
	s := &d.s
	w := &t.rate
	pps, bytes := w.shaped()
	bps := bytes * 8
	limPPS, limBPS := s.AttackPPS, s.AttackBPS
	if isPrefix {
		limPPS, limBPS = s.PrefixPPS, s.PrefixBPS
		if limPPS == 0 {
			limPPS = 2 * s.AttackPPS
		}
		if limBPS == 0 {
			limBPS = 2 * s.AttackBPS
		}
	} else {
		// A learned baseline replaces the default floor, up or down.
		if l := t.basePPS.limit(d.learn, s.Sigma, s.Factor, s.MinPPS); l > 0 && limPPS > 0 {
			limPPS = l
		}
		if l := t.baseBPS.limit(d.learn, s.Sigma, s.Factor, s.MinBPS); l > 0 && limBPS > 0 {
			limBPS = l
		}
	}
	m, why := 0.0, ""
	over := func(v, lim uint64, name string) {
		if lim > 0 {
			if r := float64(v) / float64(lim); r > m {
				m, why = r, fmt.Sprintf("%s %d over limit %d", name, v, lim)
			}
		}
	}
	over(pps, limPPS, "attack-shaped pps")
	over(bps, limBPS, "attack-shaped bps")
	if !isPrefix {
		over(w[cPkts], s.PPS, "total pps")
		over(w[cBytes]*8, s.BPS, "total bps")
		udp, _ := w.unansweredUDP()
		over(udp, s.UDPPPS, "unanswered UDP pps")
		over(w[cSig+sigICMP], s.ICMPPPS, "ICMP pps")
		over(w[cSig+sigGRE], s.GREPPS, "GRE pps")
		over(w.unansweredSYN(), s.SYNPPS, "unanswered SYN pps")
		over(w[cSig+sigFrag], s.FragmentPPS, "unexplained fragment pps")
		var amp uint64
		for i := range nServices {
			amp += w[cService+i]
		}
		over(amp, s.AmplificationPPS, "amplification pps")
	}
	return m, why
}

// evaluate runs one target's lifecycle for the tick ending at now.
func (d *Detector) evaluate(t *target, now time.Time, isPrefix bool) {
	m, why := d.magnitude(t, isPrefix)
	anomalous := m > 1
	if isPrefix && anomalous {
		// A prefix is attacked as a whole only when the traffic spreads
		// over many addresses none of which is attacked on its own.
		anomalous = t.dsts[1].estimate() >= d.s.CarpetMinTargets && !d.anyHostAttacked(t)
	}
	a := t.attack
	if a == nil || a.ended {
		if a != nil && now.Sub(a.endedAt) > d.s.Reonset {
			t.attack, a = nil, nil
		}
		if !anomalous {
			t.anomaly = 0
			return
		}
		t.anomaly++
		if time.Duration(t.anomaly)*Tick < d.s.Onset {
			return
		}
		if a == nil {
			a = &attack{id: attackID(t.name, now)}
			t.attack = a
		}
		a.reason = why
		a.ended, a.phase, a.started, a.lastAbove, a.lastUpdate = false, PhaseDetected, now, now, now
		a.halfAt = time.Time{}
		if a.mitigated {
			a.phase = PhaseMitigating
		}
		d.observeAttack(t, a, m, isPrefix)
		d.emit(t, a, EventStarted, now)
		return
	}
	d.observeAttack(t, a, m, isPrefix)
	pps, bytes := t.rate.shaped()
	if anomalous {
		a.lastAbove = now
	}
	switch {
	case now.Sub(a.lastAbove) >= d.s.HoldDown:
		a.ended, a.endedAt, a.phase = true, now, PhaseEnded
		t.anomaly = 0
		d.emit(t, a, EventEnded, now)
		return
	case pps*2 < a.peakPPS && bytes*16 < a.peakBPS:
		if a.halfAt.IsZero() {
			a.halfAt = now
		}
		if a.phase != PhaseSubsiding && now.Sub(a.halfAt) >= d.s.Subsiding {
			a.phase = PhaseSubsiding
			d.emit(t, a, EventSubsiding, now)
			return
		}
	default:
		a.halfAt = time.Time{}
		if a.phase == PhaseSubsiding {
			a.phase = PhaseDetected
			if a.mitigated {
				a.phase = PhaseMitigating
			}
			d.emit(t, a, EventUpdated, now)
			return
		}
	}
	if now.Sub(a.lastUpdate) >= d.s.UpdateEvery {
		d.emit(t, a, EventUpdated, now)
	}
}

func (d *Detector) anyHostAttacked(p *target) bool {
	for _, h := range d.hosts {
		if h.prefix == p && h.attack != nil && !h.attack.ended {
			return true
		}
	}
	return false
}

// observeAttack folds the current window into the attack: peaks, vectors
// (while the traffic is still high enough to tell) and severity, which
// only ever rises.
func (d *Detector) observeAttack(t *target, a *attack, m float64, isPrefix bool) {
	pps, bytes := t.rate.shaped()
	bps := bytes * 8
	a.peakPPS = max(a.peakPPS, pps)
	a.peakBPS = max(a.peakBPS, bps)
	if m > 1 || a.vectors == nil {
		k := t.sketchesFor()
		port, share := topPort(&k.ports[0], &k.ports[1])
		v := classify(&t.rate, port, share)
		if isPrefix {
			v = append([]Vector{{Type: VectorCarpet, Proto: "ip", PPS: pps, BPS: bps, Confidence: 0.9}}, v...)
		}
		if v != nil {
			a.vectors = v
		}
	}
	if m > 1 || a.severity == "" {
		sev := severityFor(&d.s, m, bps)
		if a.severity == "" || rankSeverity(sev) > rankSeverity(a.severity) {
			a.severity = sev
		}
	}
}

func rankSeverity(s string) int {
	switch s {
	case "medium":
		return 1
	case "high":
		return 2
	case "critical":
		return 3
	}
	return 0
}

// MarkMitigated records that a mitigation action ran for attack id, and
// returns the attack.mitigating event (nil for an unknown or ended attack).
func (d *Detector) MarkMitigated(id string) *Event {
	for _, t := range d.targets() {
		if a := t.attack; a != nil && a.id == id && !a.ended {
			a.mitigated = true
			if a.phase == PhaseDetected {
				a.phase = PhaseMitigating
			}
			d.events = d.events[:0]
			d.emit(t, a, EventMitigating, time.Unix(0, d.tick*tickNanos).UTC())
			e := d.events[0]
			return &e
		}
	}
	return nil
}

func (d *Detector) targets() []*target {
	out := make([]*target, 0, len(d.hosts)+len(d.prefixes))
	for _, h := range d.hosts {
		out = append(out, h)
	}
	return append(out, d.prefixes...)
}

func (d *Detector) emit(t *target, a *attack, typ string, now time.Time) {
	k := t.sketchesFor()
	a.seq++
	a.lastUpdate = now
	pps, bytes := t.rate.shaped()
	e := Event{ID: fmt.Sprintf("%s-%d", a.id, a.seq), Type: typ, AttackID: a.id, Seq: a.seq, At: now, Target: t.name,
		Phase: a.phase, Severity: a.severity, Vectors: append([]Vector(nil), a.vectors...), PPS: pps,
		BPS: bytes * 8, PeakPPS: a.peakPPS, PeakBPS: a.peakBPS, StartedAt: a.started, Reason: a.reason}
	e.Sources, e.TopSources = k.sources(d.tick)
	if len(a.vectors) > 0 {
		e.Classification, e.Confidence = a.vectors[0].Key(), a.vectors[0].Confidence
	}
	if a.ended {
		end := a.endedAt
		e.EndedAt = &end
	}
	if p, _ := topPort(&k.ports[0], &k.ports[1]); p != 0 {
		e.TopPorts = []uint16{p}
	}
	e.Title = Title(a.vectors, t.name, a.peakPPS, a.peakBPS)
	d.events = append(d.events, e)
}

// attackID is stable for a target and start time, so that replaying a
// capture gives the same ids.
func attackID(name string, start time.Time) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(fmt.Sprintf("%s|%d", name, start.UnixNano())) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf("atk_%016x", h)
}

func topSources(t *heavyAddrs, n int) []Source {
	var out []Source
	for i, c := range t.count {
		if c > 0 && t.key[i].IsValid() {
			out = append(out, Source{Addr: t.key[i].String(), PPS: c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PPS != out[j].PPS {
			return out[i].PPS > out[j].PPS
		}
		return out[i].Addr < out[j].Addr
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// topPort returns the dominant UDP source port of the last second (or of
// this one, when it has seen more) and its share of the UDP packets.
func topPort(cur, prev *heavyPorts) (uint16, float64) {
	t := prev
	if cur.total > prev.total {
		t = cur
	}
	var best uint16
	var n uint64
	for i, c := range t.count {
		if c > n {
			best, n = t.key[i], c
		}
	}
	if t.total == 0 {
		return 0, 0
	}
	return best, float64(n) / float64(t.total)
}

// Summary is the traffic the agent reports in heartbeats.
type Summary struct {
	PPS           uint64 `json:"pps"`
	BPS           uint64 `json:"bps"`
	Hosts         int    `json:"hosts"`
	ActiveAttacks int    `json:"active_attacks"`
}

// Summary returns the last second's protected traffic.
func (d *Detector) Summary() Summary {
	s := Summary{PPS: d.nodeWin[cPkts], BPS: d.nodeWin[cBytes] * 8, Hosts: len(d.hosts)}
	for _, t := range d.targets() {
		if t.attack != nil && !t.attack.ended {
			s.ActiveAttacks++
		}
	}
	return s
}
