package stormwatch

import (
	"errors"
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"contract example", "US-East game 01", "us-east-game-01"},
		{"punctuation runs", "  API -- v2 (beta)!", "api-v2-beta"},
		{"non-latin only", "日本", ""},
		{"too long", strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab-", 22)[:MaxSlugLen], "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slugify(tt.in)
			if got != tt.want {
				t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" && CheckSlug("slug", got) != nil {
				t.Errorf("Slugify(%q) = %q is not a valid slug", tt.in, got)
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		max      int
		required bool
		wantErr  string
	}{
		{"ok", "Hello, world", 20, true, ""},
		{"newlines allowed", "a\nb\tc", 20, true, ""},
		{"required", "   ", 20, true, "is required"},
		{"optional empty", "", 20, false, ""},
		{"too long in runes", strings.Repeat("é", 21), 20, false, "at most 20"},
		{"multibyte within limit", strings.Repeat("é", 20), 20, false, ""},
		{"nul", "a\x00b", 20, false, "control character"},
		{"bad utf-8", "a\xffb", 20, false, "UTF-8"},
		{"rtl mark kept", "abc\u200fdef", 20, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckText("title", tt.in, tt.max, tt.required)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Field != "title" || !strings.Contains(verr.Message, tt.wantErr) {
				t.Fatalf("err = %v, want field title and %q", err, tt.wantErr)
			}
		})
	}
}

func TestWorse(t *testing.T) {
	tests := []struct{ a, b, want ComponentStatus }{
		{Operational, DegradedPerformance, DegradedPerformance},
		{MajorOutage, PartialOutage, MajorOutage},
		{UnderMaintenance, Operational, UnderMaintenance},
		{UnderMaintenance, PartialOutage, PartialOutage},
		{DegradedPerformance, UnderMaintenance, DegradedPerformance},
	}
	for _, tt := range tests {
		if got := Worse(tt.a, tt.b); got != tt.want {
			t.Errorf("Worse(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
		if got := Worse(tt.b, tt.a); got != tt.want {
			t.Errorf("Worse(%s, %s) = %s, want %s (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestRoleAtLeast(t *testing.T) {
	tests := []struct {
		r, min Role
		want   bool
	}{
		{RoleOwner, RoleAdmin, true},
		{RoleAdmin, RoleAdmin, true},
		{RoleEditor, RoleAdmin, false},
		{RoleViewer, RoleEditor, false},
		{Role("root"), RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.r.AtLeast(tt.min); got != tt.want {
			t.Errorf("%s.AtLeast(%s) = %v, want %v", tt.r, tt.min, got, tt.want)
		}
	}
}

func TestImpactAndSeverityMappings(t *testing.T) {
	tests := []struct {
		status ComponentStatus
		impact Impact
		sev    Severity
	}{
		{Operational, ImpactNone, SeverityLow},
		{DegradedPerformance, ImpactMinor, SeverityMedium},
		{PartialOutage, ImpactMajor, SeverityHigh},
		{MajorOutage, ImpactCritical, SeverityCritical},
	}
	for _, tt := range tests {
		imp := ImpactForStatus(tt.status)
		if imp != tt.impact || SeverityForImpact(imp) != tt.sev {
			t.Errorf("%s -> %s/%s, want %s/%s", tt.status, imp, SeverityForImpact(imp), tt.impact, tt.sev)
		}
	}
}

func TestNewID(t *testing.T) {
	id := NewID(PrefixIncident)
	if !HasPrefix(id, PrefixIncident) || len(id) != len(PrefixIncident)+16 || id == NewID(PrefixIncident) {
		t.Fatalf("NewID = %q", id)
	}
	if HasPrefix("inc_", PrefixIncident) {
		t.Fatal("bare prefix accepted as id")
	}
}

func TestComputeOverall(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []ComponentStatus
		unresolved []Impact
		want       Overall
	}{
		{"no components", nil, nil, Overall{IndicatorNone, DescAllOperational}},
		{"all operational", []ComponentStatus{Operational, Operational}, nil, Overall{IndicatorNone, DescAllOperational}},
		{"one degraded", []ComponentStatus{Operational, DegradedPerformance}, nil, Overall{IndicatorMinor, DescDegraded}},
		{"some partial", []ComponentStatus{Operational, PartialOutage}, nil, Overall{IndicatorMajor, DescMinorOutage}},
		{"all partial", []ComponentStatus{PartialOutage, PartialOutage}, nil, Overall{IndicatorMajor, DescPartialOutage}},
		{"some major", []ComponentStatus{Operational, MajorOutage}, nil, Overall{IndicatorCritical, DescPartialOutage}},
		{"all major", []ComponentStatus{MajorOutage}, nil, Overall{IndicatorCritical, DescMajorOutage}},
		{"maintenance only", []ComponentStatus{Operational, UnderMaintenance}, nil, Overall{IndicatorMaintenance, DescUnderMaintenance}},
		{"outage beats maintenance", []ComponentStatus{UnderMaintenance, PartialOutage}, nil, Overall{IndicatorMajor, DescMinorOutage}},
		{"incident without component", []ComponentStatus{Operational}, []Impact{ImpactMinor}, Overall{IndicatorMinor, DescMinorOutage}},
		{"incident impact raises indicator", []ComponentStatus{DegradedPerformance}, []Impact{ImpactCritical}, Overall{IndicatorCritical, DescDegraded}},
		{"incident of no impact", []ComponentStatus{Operational}, []Impact{ImpactNone}, Overall{IndicatorNone, DescAllOperational}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ComputeOverall(tt.statuses, tt.unresolved); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckHostname(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"status.example.com", true},
		{"a.b", true},
		{"x-1.example.co.uk", true},
		{"", false},
		{"localhost", false},
		{"-a.example.com", false},
		{"a..example.com", false},
		{"status.example.com/", false},
		{"192.0.2.1", false},
		{"Status.example.com", false},
		{strings.Repeat("a", 64) + ".com", false},
	}
	for _, tt := range tests {
		if err := CheckHostname("hostname", tt.host); (err == nil) != tt.ok {
			t.Errorf("CheckHostname(%q) = %v, want ok %v", tt.host, err, tt.ok)
		}
	}
}
