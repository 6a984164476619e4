package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

const maintenanceColumns = `id, workspace_id, title, message, state, starts_at, ends_at, remind_24h, remind_1h,
	started_at, completed_at, created_at, updated_at`

func scanMaintenance(row rowScanner) (*sw.Maintenance, error) {
	var m sw.Maintenance
	var starts, ends, created, updated int64
	var started, completed sql.NullInt64
	if err := row.Scan(&m.ID, &m.WorkspaceID, &m.Title, &m.Message, &m.State, &starts, &ends, &m.Remind24h, &m.Remind1h,
		&started, &completed, &created, &updated); err != nil {
		return nil, err
	}
	m.StartsAt, m.EndsAt, m.CreatedAt, m.UpdatedAt = fromTS(starts), fromTS(ends), fromTS(created), fromTS(updated)
	m.StartedAt, m.CompletedAt = fromNullTS(started), fromNullTS(completed)
	m.Components = []string{}
	return &m, nil
}

func (r *Reader) loadMaintenanceComponents(ctx context.Context, ws string, ms []sw.Maintenance) error {
	return fillSlugs(ctx, r, ws, "maintenance_components", "maintenance_id", ms,
		func(m *sw.Maintenance) string { return m.ID }, func(m *sw.Maintenance, slug string) { m.Components = append(m.Components, slug) })
}

// Maintenances lists workspace ws's maintenance windows, latest start first.
func (r *Reader) Maintenances(ctx context.Context, ws string, p Page) ([]sw.Maintenance, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanMaintenance, `SELECT `+maintenanceColumns+` FROM maintenances WHERE workspace_id = $1
		ORDER BY starts_at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list maintenances: %w", err)
	}
	return out, more, r.loadMaintenanceComponents(ctx, ws, out)
}

// Maintenance returns workspace ws's maintenance window id.
func (r *Reader) Maintenance(ctx context.Context, ws, id string) (*sw.Maintenance, error) {
	m, err := scanMaintenance(r.db.QueryRowContext(ctx, `SELECT `+maintenanceColumns+` FROM maintenances WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "maintenance", id)
	}
	list := []sw.Maintenance{*m}
	if err := r.loadMaintenanceComponents(ctx, ws, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func checkMaintenance(m *sw.Maintenance) error {
	if err := sw.CheckText("title", m.Title, sw.MaxTitleLen, true); err != nil {
		return err
	}
	if err := sw.CheckText("message", m.Message, sw.MaxMessageLen, false); err != nil {
		return err
	}
	if !m.State.Valid() {
		return sw.Invalid("state", "must be one of scheduled, in_progress, completed")
	}
	if m.StartsAt.IsZero() {
		return sw.Invalid("starts_at", "is required")
	}
	if !m.EndsAt.After(m.StartsAt) {
		return sw.Invalid("ends_at", "must be after starts_at")
	}
	return nil
}

// CreateMaintenance stores a new maintenance window on the components named
// by refs.
func (tx *Tx) CreateMaintenance(ctx context.Context, m *sw.Maintenance, refs []string) error {
	if m.State == "" {
		m.State = sw.MaintenanceScheduled
	}
	if err := checkMaintenance(m); err != nil {
		return err
	}
	comps, err := tx.ResolveComponents(ctx, m.WorkspaceID, "components", refs)
	if err != nil {
		return err
	}
	m.ID = sw.NewID(sw.PrefixMaintenance)
	m.CreatedAt, m.UpdatedAt = tx.now, tx.now
	_, err = tx.db.ExecContext(ctx, `INSERT INTO maintenances (`+maintenanceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.ID, m.WorkspaceID, m.Title, m.Message, string(m.State), ts(m.StartsAt), ts(m.EndsAt), m.Remind24h, m.Remind1h,
		nullTS(m.StartedAt), nullTS(m.CompletedAt), ts(tx.now), ts(tx.now))
	if err != nil {
		return fmt.Errorf("create maintenance: %w", err)
	}
	if err := tx.linkMaintenance(ctx, m, comps, nil); err != nil {
		return err
	}
	if m.State != sw.MaintenanceScheduled {
		if err := tx.SetMaintenanceState(ctx, m.WorkspaceID, m.ID, m.State); err != nil || m.State != sw.MaintenanceInProgress {
			return err
		}
		fresh, err := tx.Maintenance(ctx, m.WorkspaceID, m.ID)
		if err != nil {
			return err
		}
		return tx.EmitMaintenance(ctx, sw.EventMaintenanceStarted, fresh, "")
	}
	tx.pageChanged(m.WorkspaceID)
	if err := tx.scheduleMaintenance(ctx, m); err != nil {
		return err
	}
	return tx.EmitMaintenance(ctx, sw.EventMaintenanceScheduled, m, "")
}

// Timer kinds of maintenance windows (ref: the window's id).
const (
	TimerMaintenanceRemind24h = "maintenance.remind_24h"
	TimerMaintenanceRemind1h  = "maintenance.remind_1h"
	TimerMaintenanceStart     = "maintenance.start"
	TimerMaintenanceEnd       = "maintenance.end"
)

// scheduleMaintenance arms the timers that send m's reminders and move it
// to in progress and to completed on time, and disarms those that no
// longer apply (a reminder whose time has passed is not sent late).
func (tx *Tx) scheduleMaintenance(ctx context.Context, m *sw.Maintenance) error {
	type timer struct {
		kind string
		at   time.Time
		on   bool
	}
	scheduled := m.State == sw.MaintenanceScheduled
	for _, t := range []timer{
		{TimerMaintenanceRemind24h, m.StartsAt.Add(-24 * time.Hour), scheduled && m.Remind24h && m.StartsAt.Add(-24*time.Hour).After(tx.now)},
		{TimerMaintenanceRemind1h, m.StartsAt.Add(-time.Hour), scheduled && m.Remind1h && m.StartsAt.Add(-time.Hour).After(tx.now)},
		{TimerMaintenanceStart, m.StartsAt, scheduled},
		{TimerMaintenanceEnd, m.EndsAt, m.State != sw.MaintenanceCompleted},
	} {
		var err error
		if t.on {
			err = tx.SetTimer(ctx, m.WorkspaceID, t.kind, m.ID, t.at)
		} else {
			err = tx.CancelTimer(ctx, m.WorkspaceID, t.kind, m.ID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) linkMaintenance(ctx context.Context, m *sw.Maintenance, comps []sw.Component, old []string) error {
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM maintenance_components WHERE maintenance_id = $1`, m.ID); err != nil {
		return fmt.Errorf("link maintenance %s: %w", m.ID, err)
	}
	m.Components = make([]string, 0, len(comps))
	for _, c := range comps {
		if _, err := tx.db.ExecContext(ctx, `INSERT INTO maintenance_components (maintenance_id, component_id) VALUES ($1, $2)`, m.ID, c.ID); err != nil {
			return fmt.Errorf("link maintenance %s: %w", m.ID, err)
		}
		m.Components = append(m.Components, c.Slug)
	}
	if m.State != sw.MaintenanceInProgress {
		return nil
	}
	// Components joining or leaving a window in progress change status.
	touched := map[string]bool{}
	for _, c := range comps {
		touched[c.ID] = true
	}
	oldComps, err := tx.ResolveComponents(ctx, m.WorkspaceID, "components", old)
	if err != nil {
		return err
	}
	for _, c := range oldComps {
		touched[c.ID] = true
	}
	for id := range touched {
		if err := tx.refreshComponentStatus(ctx, m.WorkspaceID, id); err != nil {
			return err
		}
	}
	return nil
}

// UpdateMaintenance saves m's fields (the caller loaded and changed it) and
// relinks its components when refs is not nil. A state change moves the
// components to or from under_maintenance.
func (tx *Tx) UpdateMaintenance(ctx context.Context, m *sw.Maintenance, refs []string) error {
	old, err := tx.Maintenance(ctx, m.WorkspaceID, m.ID)
	if err != nil {
		return err
	}
	if err := checkMaintenance(m); err != nil {
		return err
	}
	m.UpdatedAt = tx.now
	_, err = tx.db.ExecContext(ctx, `UPDATE maintenances SET title = $3, message = $4, starts_at = $5, ends_at = $6,
		remind_24h = $7, remind_1h = $8, updated_at = $9 WHERE workspace_id = $1 AND id = $2`,
		m.WorkspaceID, m.ID, m.Title, m.Message, ts(m.StartsAt), ts(m.EndsAt), m.Remind24h, m.Remind1h, ts(tx.now))
	if err != nil {
		return fmt.Errorf("update maintenance %s: %w", m.ID, err)
	}
	if refs != nil {
		comps, err := tx.ResolveComponents(ctx, m.WorkspaceID, "components", refs)
		if err != nil {
			return err
		}
		m.State = old.State
		if err := tx.linkMaintenance(ctx, m, comps, old.Components); err != nil {
			return err
		}
	}
	tx.pageChanged(m.WorkspaceID)
	m.State = old.State
	return tx.scheduleMaintenance(ctx, m)
}

// SetMaintenanceState moves a window to state, stamping started_at or
// completed_at, and derives its components' statuses anew.
func (tx *Tx) SetMaintenanceState(ctx context.Context, ws, id string, state sw.MaintenanceState) error {
	if !state.Valid() {
		return sw.Invalid("state", "must be one of scheduled, in_progress, completed")
	}
	var q string
	switch state {
	case sw.MaintenanceInProgress:
		q = `UPDATE maintenances SET state = $3, started_at = COALESCE(started_at, $4), completed_at = NULL, updated_at = $4 WHERE workspace_id = $1 AND id = $2`
	case sw.MaintenanceCompleted:
		q = `UPDATE maintenances SET state = $3, completed_at = COALESCE(completed_at, $4), updated_at = $4 WHERE workspace_id = $1 AND id = $2`
	default:
		q = `UPDATE maintenances SET state = $3, started_at = NULL, completed_at = NULL, updated_at = $4 WHERE workspace_id = $1 AND id = $2`
	}
	before, err := tx.Maintenance(ctx, ws, id)
	if err != nil {
		return err
	}
	res, err := tx.db.ExecContext(ctx, q, ws, id, string(state), ts(tx.now))
	if err := affectedOne(res, err, "maintenance", id); err != nil {
		return err
	}
	ids, err := tx.maintenanceComponentIDs(ctx, ws, id)
	if err != nil {
		return err
	}
	tx.pageChanged(ws)
	if err := tx.refreshComponents(ctx, ws, ids); err != nil {
		return err
	}
	m, err := tx.Maintenance(ctx, ws, id)
	if err != nil {
		return err
	}
	if err := tx.scheduleMaintenance(ctx, m); err != nil {
		return err
	}
	switch {
	case state == before.State:
		return nil
	case state == sw.MaintenanceInProgress:
		return tx.EmitMaintenance(ctx, sw.EventMaintenanceStarted, m, "")
	case state == sw.MaintenanceCompleted:
		return tx.EmitMaintenance(ctx, sw.EventMaintenanceCompleted, m, "")
	}
	return nil
}

// maintenanceComponentIDs returns the ids of a window's components.
func (tx *Tx) maintenanceComponentIDs(ctx context.Context, ws, id string) ([]string, error) {
	m, err := tx.Maintenance(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	comps, err := tx.ResolveComponents(ctx, ws, "components", m.Components)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(comps))
	for i, c := range comps {
		ids[i] = c.ID
	}
	return ids, nil
}

// DeleteMaintenance removes a window; components it held return to the
// status the rest derive for them.
func (tx *Tx) DeleteMaintenance(ctx context.Context, ws, id string) error {
	ids, err := tx.maintenanceComponentIDs(ctx, ws, id)
	if err != nil {
		return err
	}
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM maintenances WHERE workspace_id = $1 AND id = $2`, ws, id); err != nil {
		return fmt.Errorf("delete maintenance %s: %w", id, err)
	}
	tx.pageChanged(ws)
	return tx.refreshComponents(ctx, ws, ids)
}
