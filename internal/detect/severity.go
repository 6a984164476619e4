package detect

// Severity grades an attack: low, medium, high or critical.
//
// The magnitude (ratio) is the largest value/threshold over the thresholds
// that apply to the target (total, per protocol, learned); SeverityRatios (default 2, 5, 20)
// make it medium, high and critical. Independently, using 20 %, 50 % or
// 90 % of the protected link's capacity makes it at least medium, high or
// critical: a flood that fills the link hurts whatever the thresholds.
func severityFor(s *Settings, ratio float64, bps uint64) string {
	use := float64(bps) / float64(s.LinkBPS)
	switch {
	case ratio >= s.SeverityRatios[2] || use >= 0.9:
		return "critical"
	case ratio >= s.SeverityRatios[1] || use >= 0.5:
		return "high"
	case ratio >= s.SeverityRatios[0] || use >= 0.2:
		return "medium"
	}
	return "low"
}
