package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// RecordAttackEvent stores one event from node's agent, once: a repeat of
// an event already stored (a retried batch) changes nothing and reports
// false. The attack's row takes the event's state when the event is newer
// than what it holds, so events may arrive in any order.
func (tx *Tx) RecordAttackEvent(ctx context.Context, ws, node string, e *sw.AttackEvent) (bool, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	res, err := tx.db.ExecContext(ctx, `INSERT INTO attack_events (id, node_id, workspace_id, attack_id, seq, type, at, received_at, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (node_id, id) DO NOTHING`,
		e.ID, node, ws, e.AttackID, e.Seq, e.Type, ts(e.At), ts(tx.now), string(payload))
	if err != nil {
		return false, fmt.Errorf("store attack event %s: %w", e.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	vectors, err := json.Marshal(e.Vectors)
	if err != nil {
		return false, err
	}
	sources, err := json.Marshal(e.TopSources)
	if err != nil {
		return false, err
	}
	monitor := ""
	if e.Monitor != nil {
		raw, err := json.Marshal(e.Monitor)
		if err != nil {
			return false, err
		}
		monitor = string(raw)
	}
	components := ""
	if len(e.Components) > 0 {
		raw, err := json.Marshal(e.Components)
		if err != nil {
			return false, err
		}
		components = string(raw)
	}
	_, err = tx.db.ExecContext(ctx, `INSERT INTO attacks (id, node_id, workspace_id, target, phase, severity, classification,
			confidence, title, vectors, pps, bps, peak_pps, peak_bps, distinct_sources, top_sources, last_seq, started_at, updated_at, ended_at, monitor, components)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (node_id, id) DO UPDATE SET target = excluded.target, phase = excluded.phase, severity = excluded.severity,
			classification = excluded.classification, confidence = excluded.confidence, title = excluded.title,
			vectors = excluded.vectors, pps = excluded.pps, bps = excluded.bps, peak_pps = excluded.peak_pps,
			peak_bps = excluded.peak_bps, distinct_sources = excluded.distinct_sources, top_sources = excluded.top_sources,
			last_seq = excluded.last_seq, started_at = excluded.started_at, updated_at = excluded.updated_at, ended_at = excluded.ended_at,
			monitor = excluded.monitor, components = excluded.components
		WHERE attacks.last_seq < excluded.last_seq`,
		e.AttackID, node, ws, e.Target, e.Phase, e.Severity, e.Classification, e.Confidence, e.Title, string(vectors),
		int64(e.PPS), int64(e.BPS), int64(e.PeakPPS), int64(e.PeakBPS), int64(e.Sources), string(sources), e.Seq,
		ts(e.StartedAt), ts(e.At), nullTS(e.EndedAt), monitor, components)
	if err != nil {
		return false, fmt.Errorf("store attack %s: %w", e.AttackID, err)
	}
	return true, nil
}

const attackColumns = `id, node_id, target, phase, severity, classification, confidence, title, vectors, pps, bps, peak_pps,
	peak_bps, distinct_sources, top_sources, started_at, updated_at, ended_at, monitor, last_seq, components`

func scanAttack(row rowScanner) (*sw.Attack, error) {
	var a sw.Attack
	var vectors, sources, monitor, components string
	var pps, bps, peakPPS, peakBPS, srcs int64
	var started, updated int64
	var ended sql.NullInt64
	if err := row.Scan(&a.ID, &a.NodeID, &a.Target, &a.Phase, &a.Severity, &a.Classification, &a.Confidence, &a.Title,
		&vectors, &pps, &bps, &peakPPS, &peakBPS, &srcs, &sources, &started, &updated, &ended, &monitor, &a.Seq, &components); err != nil {
		return nil, err
	}
	a.PPS, a.BPS, a.PeakPPS, a.PeakBPS, a.Sources = uint64(pps), uint64(bps), uint64(peakPPS), uint64(peakBPS), uint64(srcs)
	a.StartedAt, a.UpdatedAt, a.EndedAt = fromTS(started), fromTS(updated), fromNullTS(ended)
	if err := json.Unmarshal([]byte(vectors), &a.Vectors); err != nil {
		return nil, fmt.Errorf("attack %s vectors: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(sources), &a.TopSources); err != nil {
		return nil, fmt.Errorf("attack %s sources: %w", a.ID, err)
	}
	if components != "" {
		if err := json.Unmarshal([]byte(components), &a.Components); err != nil {
			return nil, fmt.Errorf("attack %s components: %w", a.ID, err)
		}
	}
	if monitor != "" {
		a.Monitor = &sw.MonitorFacts{}
		if err := json.Unmarshal([]byte(monitor), a.Monitor); err != nil {
			return nil, fmt.Errorf("attack %s monitor: %w", a.ID, err)
		}
	}
	return &a, nil
}

// Attacks lists workspace ws's attacks, newest first.
func (r *Reader) Attacks(ctx context.Context, ws string, p Page) ([]sw.Attack, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanAttack, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1
		ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list attacks: %w", err)
	}
	return out, more, nil
}

// ActiveAttacks lists workspace ws's attacks that have not ended, newest
// first.
func (r *Reader) ActiveAttacks(ctx context.Context, ws string) ([]sw.Attack, error) {
	out, err := queryAll(ctx, r.db, scanAttack, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND ended_at IS NULL
		ORDER BY started_at DESC, id DESC LIMIT 100`, ws)
	if err != nil {
		return nil, fmt.Errorf("list active attacks: %w", err)
	}
	return out, nil
}

// IncidentAttacks lists the attacks that opened or joined workspace ws's
// incident id, oldest first.
func (r *Reader) IncidentAttacks(ctx context.Context, ws, id string) ([]sw.Attack, error) {
	out, err := queryAll(ctx, r.db, scanAttack, `SELECT `+prefixed("a.", attackColumns)+` FROM attacks a
		JOIN attack_incidents l ON l.workspace_id = a.workspace_id AND l.node_id = a.node_id AND l.attack_id = a.id
		WHERE l.workspace_id = $1 AND l.incident_id = $2 ORDER BY a.started_at, a.id`, ws, id)
	if err != nil {
		return nil, fmt.Errorf("attacks of incident %s: %w", id, err)
	}
	return out, nil
}

// Attack returns workspace ws's attack id with its timeline of events.
func (r *Reader) Attack(ctx context.Context, ws, id string) (*sw.Attack, error) {
	a, err := scanAttack(r.db.QueryRowContext(ctx, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND id = $2
		ORDER BY started_at DESC LIMIT 1`, ws, id))
	if err != nil {
		return nil, notFound(err, "attack", id)
	}
	if ci, err := r.CaptureInfo(ctx, ws, id); err == nil {
		a.Capture = ci
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT payload FROM attack_events WHERE workspace_id = $1 AND node_id = $2 AND attack_id = $3
		ORDER BY seq`, ws, a.NodeID, id)
	if err != nil {
		return nil, fmt.Errorf("attack %s timeline: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			return nil, err
		}
		var e sw.AttackEvent
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			return nil, fmt.Errorf("attack %s event: %w", id, err)
		}
		a.Timeline = append(a.Timeline, e)
	}
	return a, rows.Err()
}

// AttackEventCount counts the events stored for a node, for tests and
// metrics.
func (r *Reader) AttackEventCount(ctx context.Context, ws, node string) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM attack_events WHERE workspace_id = $1 AND node_id = $2`, ws, node).Scan(&n)
	return n, err
}

// AttacksSince lists workspace ws's attacks that started at or after
// since, oldest first, at most limit.
func (r *Reader) AttacksSince(ctx context.Context, ws string, since time.Time, limit int) ([]sw.Attack, error) {
	out, err := queryAll(ctx, r.db, scanAttack, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND started_at >= $2
		ORDER BY started_at, id LIMIT $3`, ws, ts(since), limit)
	if err != nil {
		return nil, fmt.Errorf("attacks since %s: %w", since, err)
	}
	return out, nil
}

// OpenAttack returns the node's attack of classification that has not
// ended, if any.
func (r *Reader) OpenAttack(ctx context.Context, ws, node, classification string) (*sw.Attack, error) {
	a, err := scanAttack(r.db.QueryRowContext(ctx, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND node_id = $2
		AND classification = $3 AND phase <> 'ended' ORDER BY started_at DESC LIMIT 1`, ws, node, classification))
	if err != nil {
		return nil, notFound(err, "open attack of node", node)
	}
	return a, nil
}

// OpenAttackOn returns node's attack on target whose id starts with
// prefix and that has not ended, if any (an inbound detector's ban and
// unban name the address, not the attack).
func (r *Reader) OpenAttackOn(ctx context.Context, ws, node, target, prefix string) (*sw.Attack, error) {
	a, err := scanAttack(r.db.QueryRowContext(ctx, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND node_id = $2
		AND target = $3 AND id LIKE $4 AND phase <> 'ended' ORDER BY started_at DESC LIMIT 1`, ws, node, target, prefix+"%"))
	if err != nil {
		return nil, notFound(err, "open attack on", target)
	}
	return a, nil
}
