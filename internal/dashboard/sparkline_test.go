package dashboard

import (
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
)

func TestSparkline(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	at := func(s int, pps uint64) store.TrafficSample {
		return store.TrafficSample{At: t0.Add(time.Duration(s) * time.Second), PPS: pps, BPS: pps * 8000}
	}
	tests := []struct {
		name    string
		samples []store.TrafficSample
		bits    bool
		want    string
	}{
		{"none", nil, false, ""},
		{"flat zero", []store.TrafficSample{at(0, 0), at(80, 0)}, false, "0.0,31.0 80.0,31.0"},
		{"peak on top", []store.TrafficSample{at(0, 0), at(40, 50), at(160, 100)}, false, "0.0,31.0 40.0,16.0 160.0,1.0"},
		{"bits scale alike", []store.TrafficSample{at(0, 0), at(160, 100)}, true, "0.0,31.0 160.0,1.0"},
		{"before the window clamps", []store.TrafficSample{at(-10, 10)}, false, "0.0,1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sparkline(tt.samples, t0, t0.Add(160*time.Second), tt.bits); got != tt.want {
				t.Errorf("sparkline = %q, want %q", got, tt.want)
			}
		})
	}
}
