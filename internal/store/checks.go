package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
)

// LocationServer is the location of checks the server runs itself.
const LocationServer = "server"

const checkColumns = `k.id, k.workspace_id, k.component_id, c.slug, k.name, k.type, k.target, k.spec, k.created_at, k.updated_at`

const checkFrom = ` FROM checks k JOIN components c ON c.id = k.component_id `

func scanCheck(row rowScanner) (*sw.Check, error) {
	var k sw.Check
	var spec string
	var created, updated int64
	if err := row.Scan(&k.ID, &k.WorkspaceID, &k.ComponentID, &k.Component, &k.Name, &k.Type, &k.Target, &spec, &created, &updated); err != nil {
		return nil, err
	}
	id, ws, comp, slug, name, typ, target := k.ID, k.WorkspaceID, k.ComponentID, k.Component, k.Name, k.Type, k.Target
	if err := json.Unmarshal([]byte(spec), &k); err != nil {
		return nil, fmt.Errorf("check %s spec: %w", id, err)
	}
	// The spec holds every field; the columns are authoritative for the
	// ones queries use.
	k.ID, k.WorkspaceID, k.ComponentID, k.Component, k.Name, k.Type, k.Target = id, ws, comp, slug, name, typ, target
	k.CreatedAt, k.UpdatedAt = fromTS(created), fromTS(updated)
	k.State = []sw.CheckLocation{}
	return &k, nil
}

// Checks lists workspace ws's checks with their state, by component and
// name.
func (r *Reader) Checks(ctx context.Context, ws string, p Page) ([]sw.Check, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanCheck, `SELECT `+checkColumns+checkFrom+`WHERE k.workspace_id = $1
		ORDER BY c.position, c.created_at, k.name LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list checks: %w", err)
	}
	for i := range out {
		if out[i].State, err = r.CheckLocations(ctx, out[i].ID); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}

// Check returns workspace ws's check by id or name, with its state.
func (r *Reader) Check(ctx context.Context, ws, ref string) (*sw.Check, error) {
	col := "k.name"
	if sw.HasPrefix(ref, sw.PrefixCheck) {
		col = "k.id"
	}
	k, err := scanCheck(r.db.QueryRowContext(ctx, `SELECT `+checkColumns+checkFrom+`WHERE k.workspace_id = $1 AND `+col+` = $2`, ws, ref))
	if err != nil {
		return nil, notFound(err, "check", ref)
	}
	if k.State, err = r.CheckLocations(ctx, k.ID); err != nil {
		return nil, err
	}
	return k, nil
}

// ServerChecks lists the checks of every workspace that the server runs
// itself (those given no node).
func (r *Reader) ServerChecks(ctx context.Context) ([]sw.Check, error) {
	out, err := queryAll(ctx, r.db, scanCheck, `SELECT `+checkColumns+checkFrom+`WHERE k.on_server ORDER BY k.id`)
	if err != nil {
		return nil, fmt.Errorf("server checks: %w", err)
	}
	return out, nil
}

// NodeChecks lists the checks of workspace ws that node runs.
func (r *Reader) NodeChecks(ctx context.Context, ws string, node *sw.Node) ([]sw.Check, error) {
	all, err := queryAll(ctx, r.db, scanCheck, `SELECT `+checkColumns+checkFrom+`WHERE k.workspace_id = $1 AND NOT k.on_server ORDER BY k.id`, ws)
	if err != nil {
		return nil, fmt.Errorf("checks of node %s: %w", node.ID, err)
	}
	out := all[:0]
	for _, k := range all {
		if k.RunsOn(node.Name) {
			out = append(out, k)
		}
	}
	return out, nil
}

func specOf(k *sw.Check) (string, error) {
	spec := *k
	spec.State = nil
	raw, err := json.Marshal(spec)
	return string(raw), err
}

// CreateCheck stores a new check on the component named by k.Component
// (id or slug); k has had Defaults and Validate.
func (tx *Tx) CreateCheck(ctx context.Context, k *sw.Check) error {
	comp, err := tx.Component(ctx, k.WorkspaceID, k.Component)
	if errors.Is(err, ErrNotFound) {
		return sw.Invalid("component", "no component %q in this workspace", k.Component)
	}
	if err != nil {
		return err
	}
	k.ID, k.ComponentID, k.Component = sw.NewID(sw.PrefixCheck), comp.ID, comp.Slug
	k.CreatedAt, k.UpdatedAt = tx.now, tx.now
	k.State = []sw.CheckLocation{}
	spec, err := specOf(k)
	if err != nil {
		return err
	}
	_, err = tx.db.ExecContext(ctx, `INSERT INTO checks (id, workspace_id, component_id, name, type, target, spec, on_server, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.ID, k.WorkspaceID, k.ComponentID, k.Name, k.Type, k.Target, spec, len(k.Nodes) == 0, ts(tx.now), ts(tx.now))
	if isUniqueViolation(err) {
		return fmt.Errorf("a check named %q exists in this workspace: %w", k.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create check: %w", err)
	}
	return nil
}

// UpdateCheck stores k's new settings (validated), moving it to the
// component k.Component names. Locations that no longer run it are
// forgotten.
func (tx *Tx) UpdateCheck(ctx context.Context, k *sw.Check) error {
	comp, err := tx.Component(ctx, k.WorkspaceID, k.Component)
	if errors.Is(err, ErrNotFound) {
		return sw.Invalid("component", "no component %q in this workspace", k.Component)
	}
	if err != nil {
		return err
	}
	k.ComponentID, k.Component, k.UpdatedAt = comp.ID, comp.Slug, tx.now
	spec, err := specOf(k)
	if err != nil {
		return err
	}
	res, err := tx.db.ExecContext(ctx, `UPDATE checks SET component_id = $1, name = $2, type = $3, target = $4, spec = $5,
		on_server = $6, updated_at = $7 WHERE workspace_id = $8 AND id = $9`,
		k.ComponentID, k.Name, k.Type, k.Target, spec, len(k.Nodes) == 0, ts(tx.now), k.WorkspaceID, k.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("a check named %q exists in this workspace: %w", k.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update check %s: %w", k.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "check", k.ID)
	}
	_, err = tx.db.ExecContext(ctx, `DELETE FROM check_locations WHERE check_id = $1`, k.ID)
	return err
}

// DeleteCheck removes workspace ws's check id with its history.
func (tx *Tx) DeleteCheck(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM checks WHERE workspace_id = $1 AND id = $2`, ws, id)
	if err != nil {
		return fmt.Errorf("delete check %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "check", id)
	}
	return nil
}

// CheckLocations returns the latest state of check id at each location,
// named (node name, or "server").
func (r *Reader) CheckLocations(ctx context.Context, id string) ([]sw.CheckLocation, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT l.location, COALESCE(n.name, l.location), l.up, l.since, l.reported_at,
		l.latency_ms, l.error, l.warning FROM check_locations l LEFT JOIN nodes n ON n.id = l.location
		WHERE l.check_id = $1 ORDER BY l.location`, id)
	if err != nil {
		return nil, fmt.Errorf("state of check %s: %w", id, err)
	}
	defer rows.Close()
	out := []sw.CheckLocation{}
	for rows.Next() {
		var l sw.CheckLocation
		var key string
		var since, at int64
		if err := rows.Scan(&key, &l.Location, &l.Up, &since, &at, &l.LatencyMS, &l.Error, &l.Warning); err != nil {
			return nil, err
		}
		l.Since, l.ReportedAt = fromTS(since), fromTS(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RecordCheckResult stores what location (a node id, or LocationServer)
// found running check k. A result older than the location's last one is
// ignored (a spool replaying, a heartbeat overtaken). It reports whether
// the location's up/down state changed (a first result counts as one).
func (tx *Tx) RecordCheckResult(ctx context.Context, ws string, k *sw.Check, location string, res *sw.CheckResult) (bool, error) {
	var up bool
	var reported int64
	err := tx.db.QueryRowContext(ctx, `SELECT up, reported_at FROM check_locations WHERE check_id = $1 AND location = $2`,
		k.ID, location).Scan(&up, &reported)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.db.ExecContext(ctx, `INSERT INTO check_locations (check_id, location, workspace_id, up, since, reported_at,
			latency_ms, error, warning) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
			k.ID, location, ws, res.Up, ts(res.At), res.LatencyMS, res.Error, res.Warning)
		if err != nil {
			return false, fmt.Errorf("record check %s: %w", k.ID, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("record check %s: %w", k.ID, err)
	case ts(res.At) <= reported:
		return false, nil
	}
	changed := up != res.Up
	_, err = tx.db.ExecContext(ctx, `UPDATE check_locations SET up = $1, since = CASE WHEN $2 THEN $3 ELSE since END,
		reported_at = $3, latency_ms = $4, error = $5, warning = $6 WHERE check_id = $7 AND location = $8`,
		res.Up, changed, ts(res.At), res.LatencyMS, res.Error, res.Warning, k.ID, location)
	if err != nil {
		return false, fmt.Errorf("record check %s: %w", k.ID, err)
	}
	return changed, nil
}

// LatencyBucket is one ten-minute slice of a check's runs.
type LatencyBucket struct {
	Start     time.Time
	Runs      int
	Fails     int
	LatencyMS float64 // mean over the runs that passed
}

// BucketSize is the span of a latency bucket.
const BucketSize = 10 * time.Minute

// AddLatency counts runs (fails of them failed; sum the latency in ms of
// those that passed) into check id's bucket of at.
func (tx *Tx) AddLatency(ctx context.Context, id string, at time.Time, runs, fails int, sum float64) error {
	bucket := at.Truncate(BucketSize)
	_, err := tx.db.ExecContext(ctx, `INSERT INTO check_latency (check_id, bucket, runs, fails, latency_sum) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (check_id, bucket) DO UPDATE SET runs = check_latency.runs + excluded.runs,
			fails = check_latency.fails + excluded.fails, latency_sum = check_latency.latency_sum + excluded.latency_sum`,
		id, ts(bucket), runs, fails, sum)
	if err != nil {
		return fmt.Errorf("latency of check %s: %w", id, err)
	}
	return nil
}

// Latency returns check id's buckets since since, oldest first.
func (r *Reader) Latency(ctx context.Context, id string, since time.Time) ([]LatencyBucket, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT bucket, runs, fails, latency_sum FROM check_latency
		WHERE check_id = $1 AND bucket >= $2 ORDER BY bucket`, id, ts(since))
	if err != nil {
		return nil, fmt.Errorf("latency of check %s: %w", id, err)
	}
	defer rows.Close()
	var out []LatencyBucket
	for rows.Next() {
		var b LatencyBucket
		var at int64
		var sum float64
		if err := rows.Scan(&at, &b.Runs, &b.Fails, &sum); err != nil {
			return nil, err
		}
		b.Start = fromTS(at)
		if ok := b.Runs - b.Fails; ok > 0 {
			b.LatencyMS = sum / float64(ok)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// PruneLatency drops latency buckets older than before.
func (tx *Tx) PruneLatency(ctx context.Context, before time.Time) error {
	_, err := tx.db.ExecContext(ctx, `DELETE FROM check_latency WHERE bucket < $1`, ts(before))
	return err
}

// SetOutage opens (down) or closes check k's outage span at at: the
// spans measured uptime counts as down. Opening an open one or closing a
// closed one does nothing.
func (tx *Tx) SetOutage(ctx context.Context, k *sw.Check, down bool, at time.Time) error {
	var open string
	err := tx.db.QueryRowContext(ctx, `SELECT id FROM check_outages WHERE check_id = $1 AND ended_at IS NULL`, k.ID).Scan(&open)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("outage of check %s: %w", k.ID, err)
	}
	err = nil
	switch {
	case down && open == "":
		_, err = tx.db.ExecContext(ctx, `INSERT INTO check_outages (id, check_id, component_id, workspace_id, started_at)
			VALUES ($1, $2, $3, $4, $5)`, sw.NewID("out_"), k.ID, k.ComponentID, k.WorkspaceID, ts(at))
	case !down && open != "":
		_, err = tx.db.ExecContext(ctx, `UPDATE check_outages SET ended_at = $1 WHERE id = $2`, ts(at), open)
	}
	if err != nil {
		return fmt.Errorf("outage of check %s: %w", k.ID, err)
	}
	return nil
}

// MeasuredUptime returns, for each of workspace ws's components that has
// a check, its first check's creation and the outage spans that overlap
// [since, now).
func (r *Reader) MeasuredUptime(ctx context.Context, ws string, since time.Time) (map[string]*sw.Measured, error) {
	out := map[string]*sw.Measured{}
	rows, err := r.db.QueryContext(ctx, `SELECT component_id, MIN(created_at) FROM checks WHERE workspace_id = $1 GROUP BY component_id`, ws)
	if err != nil {
		return nil, fmt.Errorf("checked components: %w", err)
	}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = &sw.Measured{Since: fromTS(at)}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = r.db.QueryContext(ctx, `SELECT component_id, started_at, ended_at FROM check_outages
		WHERE workspace_id = $1 AND (ended_at IS NULL OR ended_at >= $2) ORDER BY started_at`, ws, ts(since))
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var start int64
		var end sql.NullInt64
		if err := rows.Scan(&id, &start, &end); err != nil {
			return nil, err
		}
		if m := out[id]; m != nil {
			m.Down = append(m.Down, sw.Span{Start: fromTS(start), End: fromNullTS(end)})
		}
	}
	return out, rows.Err()
}

// ServerNode returns workspace ws's server node, made on first use: the
// node under which the server records the signals it raises itself
// (failing checks). It has no usable token and is not listed.
func (tx *Tx) ServerNode(ctx context.Context, ws string) (*sw.Node, error) {
	n, err := scanNode(tx.db.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE workspace_id = $1 AND kind = 'server'`, ws))
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("server node of %s: %w", ws, err)
	}
	n = &sw.Node{ID: sw.NewID(sw.PrefixNode), WorkspaceID: ws, Name: "stormwatch server", Components: []string{},
		CreatedAt: tx.now, UpdatedAt: tx.now}
	// A random token, never shown: nothing can authenticate as this node.
	unusable := secret.New(secret.KindNodeToken)
	_, err = tx.db.ExecContext(ctx, `INSERT INTO nodes (id, workspace_id, name, token_prefix, token_hash, created_at, updated_at, kind)
		VALUES ($1, $2, $3, '', $4, $5, $5, 'server')`, n.ID, ws, n.Name, secret.Hash("server:"+unusable), ts(tx.now))
	if err != nil {
		return nil, fmt.Errorf("server node of %s: %w", ws, err)
	}
	return n, nil
}

// OpenMonitorSignal returns check id's monitor signal that has not ended,
// if any.
func (r *Reader) OpenMonitorSignal(ctx context.Context, ws, node, checkID string) (*sw.Attack, error) {
	a, err := scanAttack(r.db.QueryRowContext(ctx, `SELECT `+attackColumns+` FROM attacks WHERE workspace_id = $1 AND node_id = $2
		AND id LIKE $3 AND phase <> 'ended' ORDER BY started_at DESC LIMIT 1`, ws, node, "mon_"+checkID+"_%"))
	if err != nil {
		return nil, notFound(err, "open signal of check", checkID)
	}
	return a, nil
}

// CheckRef names a check in its workspace.
type CheckRef struct{ Workspace, ID string }

// ChecksSignalling lists the checks of every workspace whose monitor
// signal is open, so that they can be judged again as locations fall
// silent.
func (r *Reader) ChecksSignalling(ctx context.Context) ([]CheckRef, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT workspace_id, monitor FROM attacks WHERE classification = $1 AND phase <> 'ended'`,
		sw.VectorMonitorDown)
	if err != nil {
		return nil, fmt.Errorf("open monitor signals: %w", err)
	}
	defer rows.Close()
	var out []CheckRef
	for rows.Next() {
		var ws, raw string
		if err := rows.Scan(&ws, &raw); err != nil {
			return nil, err
		}
		var m sw.MonitorFacts
		if json.Unmarshal([]byte(raw), &m) == nil && m.CheckID != "" {
			out = append(out, CheckRef{ws, m.CheckID})
		}
	}
	return out, rows.Err()
}

// ForgetCheckLocations drops check id's location states (it is about to
// be deleted: judged with no location, its signal ends).
func (tx *Tx) ForgetCheckLocations(ctx context.Context, id string) error {
	_, err := tx.db.ExecContext(ctx, `DELETE FROM check_locations WHERE check_id = $1`, id)
	return err
}

// ComponentLatency returns, for each of workspace ws's components with a
// check, its main check's latency buckets since since: the first HTTP
// check made, else the first check.
func (r *Reader) ComponentLatency(ctx context.Context, ws string, since time.Time) (map[string]*sw.LatencySeries, error) {
	checks, err := queryAll(ctx, r.db, scanCheck, `SELECT `+checkColumns+checkFrom+`WHERE k.workspace_id = $1
		ORDER BY CASE WHEN k.type = 'http' THEN 0 ELSE 1 END, k.created_at, k.id`, ws)
	if err != nil {
		return nil, fmt.Errorf("checks of %s: %w", ws, err)
	}
	out := map[string]*sw.LatencySeries{}
	for _, k := range checks {
		if out[k.ComponentID] != nil {
			continue
		}
		buckets, err := r.Latency(ctx, k.ID, since)
		if err != nil {
			return nil, err
		}
		s := &sw.LatencySeries{Check: k.Name, Type: k.Type, Points: make([]sw.LatencyPoint, len(buckets))}
		for i, b := range buckets {
			s.Points[i] = sw.LatencyPoint{At: b.Start, LatencyMS: b.LatencyMS, Runs: b.Runs, Fails: b.Fails}
		}
		out[k.ComponentID] = s
	}
	return out, nil
}
