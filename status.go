package stormwatch

import (
	"slices"
	"strings"
)

// ComponentStatus is the state a component is shown in. The values are
// Atlassian Statuspage's so that existing clients understand them.
type ComponentStatus string

// Component statuses, from best to worst (maintenance sits apart).
const (
	Operational         ComponentStatus = "operational"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
	UnderMaintenance    ComponentStatus = "under_maintenance"
)

// ComponentStatuses lists every component status, for validation and docs.
var ComponentStatuses = []ComponentStatus{Operational, DegradedPerformance, PartialOutage, MajorOutage, UnderMaintenance}

// Valid reports whether s is a known component status.
func (s ComponentStatus) Valid() bool { return slices.Contains(ComponentStatuses, s) }

// rank orders statuses by how bad they are for a visitor: an outage during
// maintenance is still an outage, so maintenance ranks below partial outage.
func (s ComponentStatus) rank() int {
	switch s {
	case Operational:
		return 0
	case UnderMaintenance:
		return 1
	case DegradedPerformance:
		return 2
	case PartialOutage:
		return 3
	case MajorOutage:
		return 4
	}
	return -1
}

// Worse returns the worse of two statuses.
func Worse(a, b ComponentStatus) ComponentStatus {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// IncidentStatus is where an incident stands in its life.
type IncidentStatus string

// Incident statuses, in the order an incident usually passes through them.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
)

// IncidentStatuses lists every incident status.
var IncidentStatuses = []IncidentStatus{Investigating, Identified, Monitoring, Resolved}

// Valid reports whether s is a known incident status.
func (s IncidentStatus) Valid() bool { return slices.Contains(IncidentStatuses, s) }

// Impact is how badly an incident hurts customers.
type Impact string

// Impacts, from none to critical.
const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

// Impacts lists every impact, from least to most severe.
var Impacts = []Impact{ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical}

// Valid reports whether i is a known impact.
func (i Impact) Valid() bool { return slices.Contains(Impacts, i) }

// Severity grades an attack as the agent saw it.
type Severity string

// Severities, from least to most severe.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, from least to most severe.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Rank orders severities: low is 0, critical is 3, unknown is -1.
func (s Severity) Rank() int { return slices.Index(Severities, s) }

// SeverityForImpact is the severity reported for an incident of impact i
// when no attack gave one (manual incidents), so that the webhook payload's
// severity field is always filled.
func SeverityForImpact(i Impact) Severity {
	switch i {
	case ImpactCritical:
		return SeverityCritical
	case ImpactMajor:
		return SeverityHigh
	case ImpactMinor:
		return SeverityMedium
	}
	return SeverityLow
}

// Source says who opened an incident: automation from attacks, or a person.
type Source string

// Incident sources.
const (
	SourceAuto   Source = "auto"
	SourceManual Source = "manual"
)

// MaintenanceState is where a maintenance window stands.
type MaintenanceState string

// Maintenance states.
const (
	MaintenanceScheduled  MaintenanceState = "scheduled"
	MaintenanceInProgress MaintenanceState = "in_progress"
	MaintenanceCompleted  MaintenanceState = "completed"
)

// MaintenanceStates lists every maintenance state.
var MaintenanceStates = []MaintenanceState{MaintenanceScheduled, MaintenanceInProgress, MaintenanceCompleted}

// Valid reports whether s is a known maintenance state.
func (s MaintenanceState) Valid() bool { return slices.Contains(MaintenanceStates, s) }

// Role is what a member or an API key may do in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
	RoleViewer Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleEditor, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool {
	ri, mi := slices.Index(Roles, r), slices.Index(Roles, min)
	return ri >= 0 && mi >= 0 && ri <= mi
}

// ImpactForStatus is the impact an incident has when the worst status it
// gives a component is s (Statuspage's mapping), used when the author gives
// no impact.
func ImpactForStatus(s ComponentStatus) Impact {
	switch s {
	case MajorOutage:
		return ImpactCritical
	case PartialOutage:
		return ImpactMajor
	case DegradedPerformance:
		return ImpactMinor
	}
	return ImpactNone
}

// StatusLabel is a status in words, for people and screen readers.
func StatusLabel(s string) string {
	switch s {
	case "degraded_performance":
		return "Degraded performance"
	case "partial_outage":
		return "Partial outage"
	case "major_outage":
		return "Major outage"
	case "under_maintenance":
		return "Under maintenance"
	case "in_progress":
		return "In progress"
	}
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}
