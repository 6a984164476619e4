package detect

import (
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Settings configure detection. The zero value is not useful; start from
// DefaultSettings.
type Settings struct {
	// Prefixes are the protected addresses; traffic to others is ignored,
	// and traffic from them teaches what they asked for.
	Prefixes []netip.Prefix

	// AttackPPS and AttackBPS are the attack-shaped traffic (what the
	// address did not ask for: handshakes never completed, replies to
	// requests it never made, packets of connections it is not in) to one
	// address that makes an attack, before a baseline is learned.
	AttackPPS, AttackBPS uint64

	// Optional limits on one kind of attack-shaped traffic (0: off), for
	// operators who want a kind caught below AttackPPS.
	UDPPPS, ICMPPPS, SYNPPS uint64
	FragmentPPS, GREPPS     uint64
	AmplificationPPS        uint64 // from any known amplification service

	// PPS and BPS are the last resort: all traffic to one address,
	// whatever its shape (0 turns one off). They catch what no signature
	// explains and are set above what a busy host receives.
	PPS, BPS uint64

	// PrefixPPS and PrefixBPS are attack-shaped traffic to a whole prefix
	// (carpet bombing; 0: 2× the address's, 20 kpps and 100 Mbit/s by
	// default, far above the stray traffic a whole /24 receives), spread
	// over at least CarpetMinTargets addresses.
	PrefixPPS, PrefixBPS uint64
	CarpetMinTargets     uint64

	// Learned baselines: after Learn of traffic, an address's
	// attack-shaped limit becomes max(floor, mean + Sigma·σ, Factor·mean)
	// of its own attack-shaped traffic: lower for quiet addresses (down
	// to the floors MinPPS and MinBPS), higher for busy ones.
	Learn          time.Duration
	Sigma, Factor  float64
	MinPPS, MinBPS uint64

	// Hysteresis and lifecycle.
	Onset       time.Duration // anomalous this long before attack.started
	Subsiding   time.Duration // under half the peak this long: attack.subsiding
	HoldDown    time.Duration // under threshold this long: attack.ended
	Reonset     time.Duration // a new onset within this after the end is the same attack
	UpdateEvery time.Duration // attack.updated period while active

	// MaxHosts bounds the addresses tracked one by one (about 7 KiB each);
	// beyond it, new addresses count for their prefix only.
	MaxHosts int
	// FlowTableBits sizes the conversation tables (2^bits flows each).
	FlowTableBits uint

	// LinkBPS is the capacity of the protected link, for severity.
	LinkBPS uint64
	// SeverityRatios are the magnitudes over the limit crossed (the
	// larger of the pps and bps ratios) that make an attack medium, high
	// and critical; link use of 20 %, 50 % and 90 % does the same.
	SeverityRatios [3]float64
}

// Tick is the accounting tick; windows are 1 s (ten ticks).
const (
	Tick        = 100 * time.Millisecond
	windowTicks = 10
)

// DefaultSettings catch the small attacks that hit game servers and small
// hosting providers, and leave busy normal hosts alone. Why each number:
//
//   - 10 kpps or 50 Mbit/s of attack-shaped traffic to one address: a
//     normal host receives almost none (what it did not ask for is stray
//     scans and late packets, tens per second), so a floor this low is
//     safe, and it is FastNetMon's 20 kpps halved: a 30 kpps SYN flood on
//     a game port is three times over it.
//   - 2 Mpps of any traffic to one address, the last resort: more than a
//     10 Gbit/s link carries in full-size packets (820 kpps), so no
//     download or upload crosses it, while small-packet floods that fit
//     no signature do. No bit-rate last resort by default: a link full of
//     traffic the host asked for is busy, not attacked.
//   - baselines learned over 10 minutes, floors 5 kpps and 25 Mbit/s,
//     6 σ or 5× the mean: quiet hosts get half the default floor, busy
//     ones what their own stray traffic needs.
//   - severity: at the floor an attack is medium (it is real: the traffic
//     is attack-shaped), 2.5× over it high, 25× critical; 20/50/90 % of
//     the link raise it too.
//   - onset 300 ms, subsiding under half the peak for 3 s, ended after
//     10 s under every limit, one attack across a pause of 60 s.
func DefaultSettings() Settings {
	return Settings{
		AttackPPS: 10_000, AttackBPS: 50_000_000,
		PPS: 2_000_000, BPS: 0,
		CarpetMinTargets: 16,
		Learn:            10 * time.Minute, Sigma: 6, Factor: 5, MinPPS: 5_000, MinBPS: 25_000_000,
		Onset: 300 * time.Millisecond, Subsiding: 3 * time.Second, HoldDown: 10 * time.Second,
		Reonset: 60 * time.Second, UpdateEvery: 5 * time.Second,
		MaxHosts:       8192,
		FlowTableBits:  18,
		LinkBPS:        10_000_000_000,
		SeverityRatios: [3]float64{1, 2.5, 25},
	}
}

// Validate reports the first setting that cannot work.
func (s *Settings) Validate() error {
	switch {
	case len(s.Prefixes) == 0:
		return fmt.Errorf("no protected prefix: give at least one --prefix CIDR")
	case s.Onset < Tick || s.HoldDown < Tick || s.Subsiding < Tick:
		return fmt.Errorf("onset, subsiding and hold-down must be at least %s", Tick)
	case s.MaxHosts < 1:
		return fmt.Errorf("max-hosts must be at least 1")
	case s.FlowTableBits < 8 || s.FlowTableBits > 26:
		return fmt.Errorf("flow table bits must be 8 to 26")
	case s.AttackPPS == 0 && s.AttackBPS == 0 && s.PPS == 0 && s.BPS == 0:
		return fmt.Errorf("every limit is off: nothing could be detected")
	case s.LinkBPS == 0:
		return fmt.Errorf("link capacity must be positive")
	case !(s.SeverityRatios[0] <= s.SeverityRatios[1] && s.SeverityRatios[1] <= s.SeverityRatios[2]):
		return fmt.Errorf("severity ratios must grow: %v", s.SeverityRatios)
	}
	return nil
}

// baseline is a robust moving mean and deviation of one rate, learned in
// 1-second steps. Values far above the mean (attacks) are clipped, so an
// attack does not teach the detector that it is normal.
type baseline struct {
	mean, variance float64
	seconds        int
}

// alpha gives the baseline a memory of about ten minutes of seconds.
const alpha = 1.0 / 600

func (b *baseline) update(x float64) {
	if b.seconds == 0 {
		b.mean = x
		b.seconds = 1
		return
	}
	if sd := b.sd(); b.seconds > 60 && x > b.mean+6*sd && sd > 0 {
		x = b.mean + 6*sd
	}
	d := x - b.mean
	a := alpha
	if b.seconds < 600 {
		a = 1 / float64(b.seconds+1) // a plain average while young
	}
	b.mean += a * d
	b.variance = (1 - a) * (b.variance + a*d*d)
	b.seconds++
}

func (b *baseline) sd() float64 {
	if b.variance <= 0 {
		return 0
	}
	return math.Sqrt(b.variance)
}

// limit is the learned threshold, or 0 while still learning.
func (b *baseline) limit(learnSeconds int, sigma, factor float64, floor uint64) uint64 {
	if b.seconds < learnSeconds {
		return 0
	}
	l := b.mean + sigma*b.sd()
	if f := factor * b.mean; f > l {
		l = f
	}
	if fl := float64(floor); fl > l {
		l = fl
	}
	return uint64(l)
}
