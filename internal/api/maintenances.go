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
	StartsAt   *string              `json:"starts_at"`
	EndsAt     *string              `json:"ends_at"`
	Remind24h  *bool                `json:"remind_24h"`
	Remind1h   *bool                `json:"remind_1h"`
	Components []string             `json:"components"`
	State      *sw.MaintenanceState `json:"state"`
}

func (in *maintenanceInput) apply(m *sw.Maintenance) error {
	setIf(&m.Title, in.Title)
	setIf(&m.Message, in.Message)
	setIf(&m.Remind24h, in.Remind24h)
	setIf(&m.Remind1h, in.Remind1h)
	var err error
	if m.StartsAt, err = parseTime("starts_at", in.StartsAt, m.StartsAt); err != nil {
		return err
	}
	m.EndsAt, err = parseTime("ends_at", in.EndsAt, m.EndsAt)
	return err
}

// parseTime reads an RFC 3339 time given as a string, keeping old when
// none was given; times are kept in UTC.
func parseTime(field string, v *string, old time.Time) (time.Time, error) {
	if v == nil {
		return old, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return old, sw.Invalid(field, "must be an RFC 3339 time such as 2026-06-07T02:00:00Z, got %q", *v)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

func (s *Server) createMaintenance(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in maintenanceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m := &sw.Maintenance{WorkspaceID: c.workspace, Remind24h: true, Remind1h: true}
	if err := in.apply(m); err != nil {
		return err
	}
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
		if err := in.apply(m); err != nil {
			return "", nil, err
		}
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
