package api

import (
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

type templateInput struct {
	Name       *string                        `json:"name"`
	Title      *string                        `json:"title"`
	Message    *string                        `json:"message"`
	Impact     *sw.Impact                     `json:"impact"`
	Components *map[string]sw.ComponentStatus `json:"components"`
	// The texts in other languages, for rules naming the template.
	TitleTranslations   *sw.Translations `json:"title_translations"`
	MessageTranslations *sw.Translations `json:"message_translations"`
}

func (in *templateInput) apply(t *sw.IncidentTemplate) {
	setIf(&t.Name, in.Name)
	setIf(&t.Title, in.Title)
	setIf(&t.Message, in.Message)
	setIf(&t.Impact, in.Impact)
	setIf(&t.TitleTranslations, in.TitleTranslations)
	setIf(&t.MessageTranslations, in.MessageTranslations)
	setIf(&t.Components, in.Components)
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in templateInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t := &sw.IncidentTemplate{WorkspaceID: c.workspace}
	in.apply(t)
	err := s.mutate(r, c, "template.create", "incident_template", func(tx *store.Tx) (string, any, error) {
		err := tx.SaveIncidentTemplate(r.Context(), t)
		return t.ID, map[string]any{"name": t.Name}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) patchTemplate(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in templateInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var t *sw.IncidentTemplate
	err := s.mutate(r, c, "template.update", "incident_template", func(tx *store.Tx) (string, any, error) {
		var err error
		if t, err = tx.IncidentTemplate(r.Context(), c.workspace, r.PathValue("id")); err != nil {
			return "", nil, err
		}
		in.apply(t)
		return t.ID, in, tx.SaveIncidentTemplate(r.Context(), t)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.mutate(r, c, "template.delete", "incident_template", func(tx *store.Tx) (string, any, error) {
		t, err := tx.IncidentTemplate(r.Context(), c.workspace, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		return t.ID, map[string]any{"name": t.Name}, tx.DeleteIncidentTemplate(r.Context(), c.workspace, t.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
