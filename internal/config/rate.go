package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Rate is a packets- or bits-per-second flag that takes SI suffixes:
// 200k, 1.5M, 10G (powers of 1000, as rates are counted).
type Rate uint64

func (r *Rate) String() string { return FormatRate(uint64(*r)) }

// Set parses a rate such as "10G".
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = Rate(v)
	return nil
}

// ParseRate parses "200k", "1.5M", "10G", "2500" (bare numbers too).
func ParseRate(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult, t = 1e3, t[:n-1]
		case 'm', 'M':
			mult, t = 1e6, t[:n-1]
		case 'g', 'G':
			mult, t = 1e9, t[:n-1]
		case 't', 'T':
			mult, t = 1e12, t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a rate such as 200k, 1.5M or 10G", s)
	}
	return uint64(f*mult + 0.5), nil
}

// FormatRate writes a rate with the largest SI suffix that keeps it whole.
func FormatRate(v uint64) string {
	for _, u := range []struct {
		div    uint64
		suffix string
	}{{1_000_000_000_000, "T"}, {1_000_000_000, "G"}, {1_000_000, "M"}, {1_000, "k"}} {
		if v >= u.div && v%u.div == 0 {
			return strconv.FormatUint(v/u.div, 10) + u.suffix
		}
	}
	return strconv.FormatUint(v, 10)
}

// Size is a byte-count flag with binary suffixes: 40MiB, 1GiB, 512KiB, or
// a bare number of bytes.
type Size uint64

func (z *Size) String() string {
	switch v := uint64(*z); {
	case v >= 1<<30 && v%(1<<30) == 0:
		return strconv.FormatUint(v>>30, 10) + "GiB"
	case v >= 1<<20 && v%(1<<20) == 0:
		return strconv.FormatUint(v>>20, 10) + "MiB"
	case v >= 1<<10 && v%(1<<10) == 0:
		return strconv.FormatUint(v>>10, 10) + "KiB"
	default:
		return strconv.FormatUint(v, 10)
	}
}

// Set parses a size such as "40MiB".
func (z *Size) Set(s string) error {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = v, u.mult
			break
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a size such as 40MiB, 1GiB or 0", s)
	}
	*z = Size(v * mult)
	return nil
}
