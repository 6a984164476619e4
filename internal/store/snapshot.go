package store

import (
	"context"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// maxSnapshotIncidents bounds what one page render reads.
const maxSnapshotIncidents = 500

// Snapshot reads everything workspace ws's public page shows, with history
// from since on, in one read transaction so that the parts agree.
func (s *Store) Snapshot(ctx context.Context, ws string, since, now time.Time) (*sw.Snapshot, error) {
	var snap *sw.Snapshot
	err := s.View(ctx, func(r *Reader) error {
		var err error
		snap, err = r.snapshot(ctx, ws, since, now)
		return err
	})
	return snap, err
}

func (r *Reader) snapshot(ctx context.Context, ws string, since, now time.Time) (*sw.Snapshot, error) {
	w, err := r.Workspace(ctx, ws)
	if err != nil {
		return nil, err
	}
	snap := &sw.Snapshot{Workspace: *w, Since: since, Now: now, History: map[string][]sw.StatusChange{}}
	all := Page{Limit: 200}
	for {
		groups, more, err := r.Groups(ctx, ws, all)
		if err != nil {
			return nil, err
		}
		snap.Groups = append(snap.Groups, groups...)
		if !more {
			break
		}
		all.Offset += len(groups)
	}
	if snap.Components, err = r.queryComponents(ctx, `SELECT `+componentColumns+` FROM components WHERE workspace_id = $1
		ORDER BY position, created_at, id`, ws); err != nil {
		return nil, err
	}
	if snap.Incidents, err = r.recentIncidents(ctx, ws, since); err != nil {
		return nil, err
	}
	if snap.Maintenances, err = r.recentMaintenances(ctx, ws, since); err != nil {
		return nil, err
	}
	if err := r.history(ctx, ws, since, snap.History); err != nil {
		return nil, err
	}
	if snap.Measured, err = r.MeasuredUptime(ctx, ws, since); err != nil {
		return nil, err
	}
	if snap.Latency, err = r.ComponentLatency(ctx, ws, now.Add(-24*time.Hour)); err != nil {
		return nil, err
	}
	return snap, nil
}

func (r *Reader) recentIncidents(ctx context.Context, ws string, since time.Time) ([]sw.Incident, error) {
	out, err := queryAll(ctx, r.db, scanIncident, `SELECT `+incidentColumns+` FROM incidents WHERE workspace_id = $1
		AND visibility = 'public' AND (status <> 'resolved' OR created_at >= $2 OR resolved_at >= $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, ws, ts(since), maxSnapshotIncidents)
	if err != nil {
		return nil, fmt.Errorf("recent incidents: %w", err)
	}
	return out, r.loadIncidentDetails(ctx, ws, out)
}

func (r *Reader) recentMaintenances(ctx context.Context, ws string, since time.Time) ([]sw.Maintenance, error) {
	out, err := queryAll(ctx, r.db, scanMaintenance, `SELECT `+maintenanceColumns+` FROM maintenances WHERE workspace_id = $1
		AND (state <> 'completed' OR ends_at >= $2 OR completed_at >= $2)
		ORDER BY starts_at, id LIMIT $3`, ws, ts(since), maxSnapshotIncidents)
	if err != nil {
		return nil, fmt.Errorf("recent maintenances: %w", err)
	}
	return out, r.loadMaintenanceComponents(ctx, ws, out)
}

func (r *Reader) history(ctx context.Context, ws string, since time.Time, into map[string][]sw.StatusChange) error {
	// The last change before the window tells the status it opens with.
	rows, err := r.db.QueryContext(ctx, `SELECT id, component_id, status, incident_id, at FROM (
			SELECT id, component_id, status, incident_id, at,
				ROW_NUMBER() OVER (PARTITION BY component_id ORDER BY at DESC, id DESC) AS rn
			FROM component_status_changes WHERE workspace_id = $1 AND at < $2) t
		WHERE rn = 1
		UNION ALL
		SELECT id, component_id, status, incident_id, at FROM component_status_changes
		WHERE workspace_id = $1 AND at >= $2
		ORDER BY at, id`, ws, ts(since))
	if err != nil {
		return fmt.Errorf("status history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c sw.StatusChange
		var at int64
		if err := rows.Scan(&c.ID, &c.ComponentID, &c.Status, &c.IncidentID, &at); err != nil {
			return err
		}
		c.At = fromTS(at)
		into[c.ComponentID] = append(into[c.ComponentID], c)
	}
	return rows.Err()
}
