package page

import (
	"encoding/json"
	"math"

	sw "github.com/stormwatch/stormwatch"
)

// uptimeDoc is /api/v2/uptime.json, stormwatch's addition beside the
// Statuspage documents: each component's 90-day uptime, per day, as the
// bars show it.
type uptimeDoc struct {
	Page       spPage            `json:"page"`
	Days       int               `json:"days"`
	FirstDay   string            `json:"first_day"` // the date of days[0], in the page's time zone
	Components []uptimeComponent `json:"components"`
}

type uptimeComponent struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	// Measured is true when the component has checks: its uptime is what
	// they measured since the first one; before, and for components
	// without one, it comes from incident statuses.
	Measured      bool       `json:"measured"`
	UptimePercent float64    `json:"uptime_percent"`
	Daily         []*float64 `json:"daily"` // percent per day, oldest first; null before the component existed
}

func renderUptimeJSON(snap *sw.Snapshot, site Site) ([]byte, error) {
	sp := newStatuspage(snap, site)
	loc := location(&snap.Workspace)
	doc := uptimeDoc{Page: sp.page(), Days: UptimeDays, Components: make([]uptimeComponent, 0, len(snap.Components))}
	for i := range snap.Components {
		c := &snap.Components[i]
		u := ComputeUptime(c, snap.History[c.ID], snap.Measured[c.ID], nil, snap.Now, loc)
		uc := uptimeComponent{ID: c.ID, Slug: c.Slug, Name: c.Name, Measured: snap.Measured[c.ID] != nil,
			UptimePercent: round4(u.Percent), Daily: make([]*float64, len(u.Days))}
		for j, d := range u.Days {
			if d.Known {
				v := round4(100 * d.Uptime)
				uc.Daily[j] = &v
			}
		}
		if doc.FirstDay == "" && len(u.Days) > 0 {
			doc.FirstDay = u.Days[0].Date.Format("2006-01-02")
		}
		doc.Components = append(doc.Components, uc)
	}
	return json.Marshal(doc)
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
