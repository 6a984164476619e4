package stormwatch

// Indicator is the page-wide status of Statuspage's status.json.
type Indicator string

// Indicators, as Statuspage names them.
const (
	IndicatorNone        Indicator = "none"
	IndicatorMinor       Indicator = "minor"
	IndicatorMajor       Indicator = "major"
	IndicatorCritical    Indicator = "critical"
	IndicatorMaintenance Indicator = "maintenance"
)

// Overall is the banner of a status page: Statuspage's indicator and its
// description string ("All Systems Operational", …).
type Overall struct {
	Indicator   Indicator `json:"indicator"`
	Description string    `json:"description"`
}

// Statuspage's own description strings, which widgets match on.
const (
	DescAllOperational   = "All Systems Operational"
	DescDegraded         = "Partially Degraded Service"
	DescMinorOutage      = "Minor Service Outage"
	DescPartialOutage    = "Partial System Outage"
	DescMajorOutage      = "Major System Outage"
	DescUnderMaintenance = "Service Under Maintenance"
)

var impactRank = map[Impact]int{ImpactNone: 0, ImpactMinor: 1, ImpactMajor: 2, ImpactCritical: 3}

// ComputeOverall derives the banner from the components' statuses and the
// impacts of the unresolved incidents, the way Statuspage does:
//
//   - the indicator is the worst of the unresolved incidents' impacts and
//     the impact the worst component status implies (degraded → minor,
//     partial outage → major, major outage → critical); with nothing wrong
//     but a component under maintenance, it is "maintenance";
//   - the description blends the component statuses: all major outage is
//     a "Major System Outage", some is a "Partial System Outage"; all
//     partial outage is a "Partial System Outage", some a "Minor Service
//     Outage"; any degraded is "Partially Degraded Service"; when only an
//     incident (no component) says something is wrong, the description
//     follows its impact.
func ComputeOverall(statuses []ComponentStatus, unresolved []Impact) Overall {
	worst, maintenance := Operational, false
	count := map[ComponentStatus]int{}
	for _, s := range statuses {
		count[s]++
		if s == UnderMaintenance {
			maintenance = true
			continue
		}
		worst = Worse(worst, s)
	}
	impact := ImpactForStatus(worst)
	for _, i := range unresolved {
		if impactRank[i] > impactRank[impact] {
			impact = i
		}
	}
	var desc string
	n := len(statuses)
	switch worst {
	case MajorOutage:
		desc = DescPartialOutage
		if count[MajorOutage] == n {
			desc = DescMajorOutage
		}
	case PartialOutage:
		desc = DescMinorOutage
		if count[PartialOutage] == n {
			desc = DescPartialOutage
		}
	case DegradedPerformance:
		desc = DescDegraded
	default:
		switch impact {
		case ImpactMinor:
			desc = DescMinorOutage
		case ImpactMajor:
			desc = DescPartialOutage
		case ImpactCritical:
			desc = DescMajorOutage
		default:
			if maintenance {
				return Overall{IndicatorMaintenance, DescUnderMaintenance}
			}
			desc = DescAllOperational
		}
	}
	ind := map[Impact]Indicator{ImpactNone: IndicatorNone, ImpactMinor: IndicatorMinor, ImpactMajor: IndicatorMajor, ImpactCritical: IndicatorCritical}[impact]
	return Overall{Indicator: ind, Description: desc}
}
