package api

import (
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/store"
)

type postmortemInput struct {
	Markdown string `json:"markdown"`
	// Publish puts it on the page and in the feeds; Notify also tells
	// the incident's subscribers, with an update linking to it.
	Publish bool `json:"publish"`
	Notify  bool `json:"notify"`
}

// putPostmortem stores an incident's post-mortem, publishing it (and
// telling subscribers) when asked.
func (s *Server) putPostmortem(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in postmortemInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Notify && !in.Publish {
		return sw.Invalid("notify", "subscribers can only be told of a published post-mortem (publish: true)")
	}
	var inc *sw.Incident
	err := s.mutate(r, c, "incident.postmortem", "incident", func(tx *store.Tx) (string, any, error) {
		id := r.PathValue("id")
		before, err := tx.Incident(r.Context(), c.workspace, id)
		if err != nil {
			return "", nil, err
		}
		wasPublished := before.Postmortem != nil && before.Postmortem.PublishedAt != nil
		if inc, err = tx.SetPostmortem(r.Context(), c.workspace, id, in.Markdown, in.Publish); err != nil {
			return "", nil, err
		}
		if in.Notify && !wasPublished && inc.Visibility == sw.VisibilityPublic {
			msg := "We have published a post-mortem of this incident."
			if inc, err = tx.EditIncident(r.Context(), c.workspace, id, store.IncidentEdit{Message: &msg}); err != nil {
				return "", nil, err
			}
		}
		return id, map[string]any{"publish": in.Publish, "notify": in.Notify}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// postmortemDraft answers a draft post-mortem written from the incident
// and its signals, for a person to finish.
func (s *Server) postmortemDraft(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	inc, err := s.store.Incident(r.Context(), c.workspace, id)
	if err != nil {
		return err
	}
	ws, err := s.store.Workspace(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	linked, err := s.store.IncidentAttacks(r.Context(), c.workspace, id)
	if err != nil {
		return err
	}
	signals := make([]sw.Attack, 0, len(linked))
	for _, a := range linked {
		full, err := s.store.Attack(r.Context(), c.workspace, a.ID)
		if err != nil {
			return err
		}
		signals = append(signals, *full)
	}
	writeJSON(w, http.StatusOK, map[string]string{"markdown": incident.PostmortemDraft(inc, signals, page.Location(ws))})
	return nil
}
