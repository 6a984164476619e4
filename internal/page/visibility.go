package page

import (
	sw "github.com/stormwatch/stormwatch"
)

// PublicView is what readers without access see of snap: its private
// components left out, with the groups, incidents and maintenance
// windows that concern only them, and their names everywhere else. A
// snapshot without private components is returned as it is.
func PublicView(snap *sw.Snapshot) *sw.Snapshot {
	hidden := map[string]bool{} // by id and by slug
	for _, c := range snap.Components {
		if c.Private {
			hidden[c.ID], hidden[c.Slug] = true, true
		}
	}
	if len(hidden) == 0 {
		return snap
	}
	out := *snap
	out.Components = nil
	shown := map[string]bool{} // groups with a public component
	hasAny := map[string]bool{}
	for _, c := range snap.Components {
		hasAny[c.GroupID] = true
		if !c.Private {
			out.Components = append(out.Components, c)
			shown[c.GroupID] = true
		}
	}
	out.Groups = nil
	for _, g := range snap.Groups {
		if shown[g.ID] || !hasAny[g.ID] {
			out.Groups = append(out.Groups, g)
		}
	}
	out.Incidents = nil
	for _, inc := range snap.Incidents {
		comps := []sw.IncidentComponent{}
		for _, c := range inc.Components {
			if !hidden[c.ComponentID] {
				comps = append(comps, c)
			}
		}
		if len(inc.Components) > 0 && len(comps) == 0 {
			continue // about private components only
		}
		inc.Components = comps
		out.Incidents = append(out.Incidents, inc)
	}
	out.Maintenances = nil
	for _, m := range snap.Maintenances {
		slugs := []string{}
		for _, s := range m.Components {
			if !hidden[s] {
				slugs = append(slugs, s)
			}
		}
		if len(m.Components) > 0 && len(slugs) == 0 {
			continue
		}
		m.Components = slugs
		out.Maintenances = append(out.Maintenances, m)
	}
	return &out
}
