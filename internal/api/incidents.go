package api

import (
	"errors"
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

type incidentInput struct {
	Visibility *string                       `json:"visibility"`
	Title      *string                       `json:"title"`
	Status     *sw.IncidentStatus            `json:"status"`
	Impact     *sw.Impact                    `json:"impact"`
	Severity   *sw.Severity                  `json:"severity"`
	Pinned     *bool                         `json:"pinned"`
	Message    *string                       `json:"message"`
	Components map[string]sw.ComponentStatus `json:"components"`
	// Template (POST only) fills what the body leaves out from a named
	// incident template.
	Template *string `json:"template"`
}

func (in *incidentInput) edit() store.IncidentEdit {
	return store.IncidentEdit{Visibility: in.Visibility, Title: in.Title, Status: in.Status, Impact: in.Impact, Severity: in.Severity,
		Pinned: in.Pinned, Message: in.Message, Changes: changes(in.Components)}
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := pageParams(r)
	if err != nil {
		return err
	}
	var f store.IncidentFilter
	switch v := r.URL.Query().Get("status"); v {
	case "":
	case "unresolved":
		f.Unresolved = true
	case "resolved":
		f.Resolved = true
	default:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "status", Message: "must be unresolved or resolved"}
	}
	items, more, err := s.store.Incidents(r.Context(), c.workspace, f, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, p, more))
	return nil
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in incidentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	inc := &sw.Incident{WorkspaceID: c.workspace, Source: sw.SourceManual}
	if in.Template != nil {
		t, err := s.store.IncidentTemplate(r.Context(), c.workspace, *in.Template)
		if errors.Is(err, store.ErrNotFound) {
			return sw.Invalid("template", "no incident template %q in this workspace", *in.Template)
		}
		if err != nil {
			return err
		}
		inc.Title, inc.Impact = t.Title, t.Impact
		if in.Message == nil {
			in.Message = &t.Message
		}
		if in.Components == nil {
			in.Components = t.Components
		}
	}
	setIf(&inc.Title, in.Title)
	setIf(&inc.Status, in.Status)
	setIf(&inc.Impact, in.Impact)
	setIf(&inc.Severity, in.Severity)
	setIf(&inc.Pinned, in.Pinned)
	setIf(&inc.Visibility, in.Visibility)
	msg := ""
	setIf(&msg, in.Message)
	err := s.mutate(r, c, "incident.create", "incident", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateIncident(r.Context(), inc, changes(in.Components), msg, nil)
		return inc.ID, in, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// editIncident applies an edit in a transaction with its audit entry and
// answers the incident.
func (s *Server) editIncident(w http.ResponseWriter, r *http.Request, c *caller, action string, e store.IncidentEdit, details any) error {
	var inc *sw.Incident
	err := s.mutate(r, c, action, "incident", func(tx *store.Tx) (string, any, error) {
		var err error
		inc, err = tx.EditIncident(r.Context(), c.workspace, r.PathValue("id"), e)
		return r.PathValue("id"), details, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in incidentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	return s.editIncident(w, r, c, "incident.update", in.edit(), in)
}

type updateInput struct {
	Status     *sw.IncidentStatus            `json:"status"`
	Message    string                        `json:"message"`
	Components map[string]sw.ComponentStatus `json:"components"`
}

func (s *Server) postIncidentUpdate(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in updateInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e := store.IncidentEdit{Status: in.Status, Message: &in.Message, Changes: changes(in.Components)}
	return s.editIncident(w, r, c, "incident.post_update", e, in)
}

type resolveInput struct {
	Message string `json:"message"`
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request, c *caller) error {
	in := resolveInput{Message: "This incident has been resolved."}
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	resolved := sw.Resolved
	return s.editIncident(w, r, c, "incident.resolve", store.IncidentEdit{Status: &resolved, Message: &in.Message}, in)
}
