package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Telemetry is the installation's state as operators watch it: what is
// waiting to be sent, what is being attacked, what is open, which nodes
// are quiet. Only counts: nothing of any workspace is named.
type Telemetry struct {
	PendingDeliveries int
	// OldestPending is when the oldest undelivered delivery was made
	// (zero when none waits).
	OldestPending time.Time
	// Attacks counts attacks not yet ended by phase and classification.
	Attacks []LabelCount
	// Incidents counts incidents by status and source.
	Incidents []LabelCount
	// Nodes alive (heartbeat within the silence), silent, and never heard.
	NodesAlive, NodesSilent, NodesNever int
	// Checks are every check's latest result at each location.
	Checks []CheckTelemetry
}

// CheckTelemetry is a check's latest result at one location (a node id,
// or "server"): ids only, no names.
type CheckTelemetry struct {
	ID, Type, Location string
	Up                 bool
	LatencyMS          float64
}

// LabelCount is a count under two label values.
type LabelCount struct {
	A, B string
	N    int
}

// Telemetry reads the counts at now; a node is silent without a
// heartbeat for longer than silence.
func (r *Reader) Telemetry(ctx context.Context, now time.Time, silence time.Duration) (*Telemetry, error) {
	var t Telemetry
	var oldest sql.NullInt64
	if err := r.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'`).
		Scan(&t.PendingDeliveries, &oldest); err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	if oldest.Valid {
		t.OldestPending = fromTS(oldest.Int64)
	}
	var err error
	scan := func(row rowScanner) (*LabelCount, error) {
		var c LabelCount
		return &c, row.Scan(&c.A, &c.B, &c.N)
	}
	if t.Attacks, err = queryAll(ctx, r.db, scan, `SELECT phase, classification, COUNT(*) FROM attacks
		WHERE phase <> 'ended' GROUP BY phase, classification ORDER BY phase, classification`); err != nil {
		return nil, fmt.Errorf("attacks by phase: %w", err)
	}
	if t.Incidents, err = queryAll(ctx, r.db, scan, `SELECT status, source, COUNT(*) FROM incidents
		GROUP BY status, source ORDER BY status, source`); err != nil {
		return nil, fmt.Errorf("incidents by status: %w", err)
	}
	if err := r.db.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN last_heartbeat_at >= $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN last_heartbeat_at < $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN last_heartbeat_at IS NULL THEN 1 ELSE 0 END), 0) FROM nodes WHERE kind = 'agent'`, ts(now.Add(-silence))).
		Scan(&t.NodesAlive, &t.NodesSilent, &t.NodesNever); err != nil {
		return nil, fmt.Errorf("nodes by heartbeat: %w", err)
	}
	if t.Checks, err = queryAll(ctx, r.db, func(row rowScanner) (*CheckTelemetry, error) {
		var c CheckTelemetry
		return &c, row.Scan(&c.ID, &c.Type, &c.Location, &c.Up, &c.LatencyMS)
	}, `SELECT l.check_id, k.type, l.location, l.up, l.latency_ms FROM check_locations l JOIN checks k ON k.id = l.check_id
		ORDER BY l.check_id, l.location`); err != nil {
		return nil, fmt.Errorf("checks: %w", err)
	}
	return &t, nil
}
