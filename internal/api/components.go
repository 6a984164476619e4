package api

import (
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

type componentInput struct {
	Name        *string             `json:"name"`
	Slug        *string             `json:"slug"`
	Description *string             `json:"description"`
	GroupID     *string             `json:"group_id"`
	Position    *int                `json:"position"`
	Status      *sw.ComponentStatus `json:"status"`
	Private     *bool               `json:"private"`
}

// apply copies the given fields onto c.
func (in *componentInput) apply(c *sw.Component) {
	setIf(&c.Name, in.Name)
	setIf(&c.Slug, in.Slug)
	setIf(&c.Description, in.Description)
	setIf(&c.GroupID, in.GroupID)
	setIf(&c.Position, in.Position)
	setIf(&c.Status, in.Status)
	setIf(&c.Private, in.Private)
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (s *Server) createComponent(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in componentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	comp := &sw.Component{WorkspaceID: c.workspace}
	in.apply(comp)
	if in.Slug == nil && in.Name != nil {
		comp.Slug = sw.Slugify(*in.Name)
	}
	err := s.mutate(r, c, "component.create", "component", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateComponent(r.Context(), comp)
		return comp.ID, comp, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, comp)
	return nil
}

func (s *Server) patchComponent(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in componentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var comp *sw.Component
	err := s.mutate(r, c, "component.update", "component", func(tx *store.Tx) (string, any, error) {
		var err error
		if comp, err = tx.Component(r.Context(), c.workspace, r.PathValue("ref")); err != nil {
			return "", nil, err
		}
		in.apply(comp)
		return comp.ID, in, tx.UpdateComponent(r.Context(), comp)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, comp)
	return nil
}

func (s *Server) deleteComponent(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.mutate(r, c, "component.delete", "component", func(tx *store.Tx) (string, any, error) {
		comp, err := tx.Component(r.Context(), c.workspace, r.PathValue("ref"))
		if err != nil {
			return "", nil, err
		}
		return comp.ID, map[string]string{"slug": comp.Slug}, tx.DeleteComponent(r.Context(), c.workspace, comp.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type groupInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Position    *int    `json:"position"`
}

func (in *groupInput) apply(g *sw.Group) {
	setIf(&g.Name, in.Name)
	setIf(&g.Description, in.Description)
	setIf(&g.Position, in.Position)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in groupInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g := &sw.Group{WorkspaceID: c.workspace}
	in.apply(g)
	err := s.mutate(r, c, "group.create", "group", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateGroup(r.Context(), g)
		return g.ID, g, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in groupInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var g *sw.Group
	err := s.mutate(r, c, "group.update", "group", func(tx *store.Tx) (string, any, error) {
		var err error
		if g, err = tx.Group(r.Context(), c.workspace, r.PathValue("id")); err != nil {
			return "", nil, err
		}
		in.apply(g)
		return g.ID, in, tx.UpdateGroup(r.Context(), g)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}
