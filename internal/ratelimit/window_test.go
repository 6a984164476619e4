package ratelimit

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	l := New(2, time.Minute)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Second, true},
		{"a", 2 * time.Second, false},
		{"b", 2 * time.Second, true},
		{"a", 59 * time.Second, false},
		{"a", time.Minute, true},
	}
	for i, s := range steps {
		if got := l.Allow(s.key, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %v): Allow = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}
