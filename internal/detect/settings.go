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
	// Prefixes are the protected addresses; traffic to others is ignored.
	Prefixes []netip.Prefix

	// Static thresholds per protected address, as FastNetMon users know
	// them (0 turns one off): total packets/s and bits/s, and per kind.
	PPS, BPS                uint64
	UDPPPS, ICMPPPS, SYNPPS uint64
	FragmentPPS, GREPPS     uint64
	AmplificationPPS        uint64 // from any known amplification service
	PrefixPPS, PrefixBPS    uint64 // whole prefix (carpet bombing); 0: 4× the host thresholds
	CarpetMinTargets        uint64 // distinct destinations that make it carpet bombing

	// Learned baselines: after Learn of traffic, an address is also
	// anomalous above max(floor, mean + Sigma·σ, Factor·mean).
	Learn          time.Duration
	Sigma, Factor  float64
	MinPPS, MinBPS uint64 // floors below which learned baselines never fire

	// Hysteresis and lifecycle.
	Onset       time.Duration // anomalous this long before attack.started
	Subsiding   time.Duration // under half the peak this long: attack.subsiding
	HoldDown    time.Duration // under threshold this long: attack.ended
	Reonset     time.Duration // a new onset within this after the end is the same attack
	UpdateEvery time.Duration // attack.updated period while active

	// MaxHosts bounds the addresses tracked one by one (about 7 KiB each,
	// 30 KiB once their traffic nears a threshold); beyond it, new
	// addresses count for their prefix only.
	MaxHosts int

	// LinkBPS is the capacity of the protected link, for severity.
	LinkBPS uint64
	// SeverityRatios are the magnitudes over threshold (the larger of the
	// pps and bps ratios) that make an attack medium, high and critical;
	// link use of 20 %, 50 % and 90 % does the same.
	SeverityRatios [3]float64
}

// Tick is the accounting tick; windows are 1 s (ten ticks).
const (
	Tick        = 100 * time.Millisecond
	windowTicks = 10
)

// DefaultSettings are sensible for a 10 Gbit/s edge: static thresholds
// of 200 kpps or 2 Gbit/s per address, learned baselines after 10 minutes,
// subsiding under half the peak for 3 s, ended after 10 s under threshold.
func DefaultSettings() Settings {
	return Settings{
		PPS: 200_000, BPS: 2_000_000_000,
		UDPPPS: 150_000, ICMPPPS: 50_000, SYNPPS: 50_000, FragmentPPS: 50_000, GREPPS: 50_000, AmplificationPPS: 50_000,
		CarpetMinTargets: 16,
		Learn:            10 * time.Minute, Sigma: 6, Factor: 5, MinPPS: 20_000, MinBPS: 200_000_000,
		Onset: 300 * time.Millisecond, Subsiding: 3 * time.Second, HoldDown: 10 * time.Second,
		Reonset: 60 * time.Second, UpdateEvery: 5 * time.Second,
		MaxHosts:       8192,
		LinkBPS:        10_000_000_000,
		SeverityRatios: [3]float64{2, 5, 20},
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
