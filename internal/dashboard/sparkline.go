package dashboard

import (
	"strconv"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
)

// Sparkline size, in the SVG's own units.
const (
	sparkWidth  = 160
	sparkHeight = 32
)

// sparkline turns traffic samples between from and to into the points of
// an SVG polyline, scaled to the highest rate; each sample sits at its
// time, so a silent spell shows as a gap in time, not a squeezed line.
func sparkline(samples []store.TrafficSample, from, to time.Time, bits bool) string {
	if len(samples) == 0 || !to.After(from) {
		return ""
	}
	value := func(s store.TrafficSample) uint64 {
		if bits {
			return s.BPS
		}
		return s.PPS
	}
	var peak uint64
	for _, s := range samples {
		peak = max(peak, value(s))
	}
	span := to.Sub(from).Seconds()
	var b strings.Builder
	for i, s := range samples {
		x := s.At.Sub(from).Seconds() / span * sparkWidth
		y := float64(sparkHeight - 1)
		if peak > 0 {
			y -= float64(value(s)) / float64(peak) * float64(sparkHeight-2)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(min(max(x, 0), sparkWidth), 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}
