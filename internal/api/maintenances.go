package api

import (
	"net/http"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

type maintenanceInput struct {
	Title      *string              `json:"title"`
	Message    *string              `json:"message"`
	StartsAt   *time.Time           `json:"starts_at"`
	EndsAt     *time.Time           `json:"ends_at"`
	Remind24h  *bool                `json:"remind_24h"`
	Remind1h   *bool                `json:"remind_1h"`
	Components []string             `json:"components"`
	State      *sw.MaintenanceState `json:"state"`
}

func (in *maintenanceInput) apply(m *sw.Maintenance) {
	setIf(&m.Title, in.Title)
	setIf(&m.Message, in.Message)
	setIf(&m.StartsAt, in.StartsAt)
	setIf(&m.EndsAt, in.EndsAt)
	setIf(&m.Remind24h, in.Remind24h)
	setIf(&m.Remind1h, in.Remind1h)
	m.StartsAt, m.EndsAt = m.StartsAt.UTC(), m.EndsAt.UTC()
}

func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in maintenanceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m := &sw.Maintenance{WorkspaceID: c.workspace, Remind24h: true, Remind1h: true}
	in.apply(m)
	setIf(&m.State, in.State)
	if in.Components == nil {
		in.Components = []string{}
	}
	err := s.mutate(r, c, "maintenance.create", "maintenance", func(tx *store.Tx) (string, any, error) {
		if err := tx.CreateMaintenance(r.Context(), m, in.Components); err != nil {
			return "", nil, err
		}
		fresh, err := tx.Maintenance(r.Context(), c.workspace, m.ID)
		if err == nil {
			*m = *fresh
		}
		return m.ID, in, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) patchMaintenance(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in maintenanceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var m *sw.Maintenance
	err := s.mutate(r, c, "maintenance.update", "maintenance", func(tx *store.Tx) (string, any, error) {
		id := r.PathValue("id")
		var err error
		if m, err = tx.Maintenance(r.Context(), c.workspace, id); err != nil {
			return "", nil, err
		}
		in.apply(m)
		if err := tx.UpdateMaintenance(r.Context(), m, in.Components); err != nil {
			return "", nil, err
		}
		if in.State != nil && *in.State != m.State {
			if err := tx.SetMaintenanceState(r.Context(), c.workspace, id, *in.State); err != nil {
				return "", nil, err
			}
		}
		m, err = tx.Maintenance(r.Context(), c.workspace, id)
		return id, in, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
