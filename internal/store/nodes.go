package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
)

const nodeColumns = `id, workspace_id, name, token_prefix, last_heartbeat_at, last_heartbeat, created_at, updated_at, mitigation_policy`

func scanNode(row rowScanner) (*sw.Node, error) {
	var n sw.Node
	var hbAt sql.NullInt64
	var hb, policy string
	var created, updated int64
	if err := row.Scan(&n.ID, &n.WorkspaceID, &n.Name, &n.TokenPrefix, &hbAt, &hb, &created, &updated, &policy); err != nil {
		return nil, err
	}
	if policy != "" {
		n.MitigationPolicy = json.RawMessage(policy)
	}
	n.LastHeartbeatAt = fromNullTS(hbAt)
	if hb != "" {
		n.LastHeartbeat = json.RawMessage(hb)
	}
	n.CreatedAt, n.UpdatedAt = fromTS(created), fromTS(updated)
	n.Components = []string{}
	return &n, nil
}

// loadNodeComponents fills the component slugs of nodes.
func (r *Reader) loadNodeComponents(ctx context.Context, ws string, nodes []sw.Node) error {
	return fillSlugs(ctx, r, ws, "node_components", "node_id", nodes,
		func(n *sw.Node) string { return n.ID }, func(n *sw.Node, slug string) { n.Components = append(n.Components, slug) })
}

// Nodes lists workspace ws's nodes, oldest first.
func (r *Reader) Nodes(ctx context.Context, ws string, p Page) ([]sw.Node, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanNode, `SELECT `+nodeColumns+` FROM nodes WHERE workspace_id = $1 AND kind = 'agent'
		ORDER BY created_at, id LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list nodes: %w", err)
	}
	return out, more, r.loadNodeComponents(ctx, ws, out)
}

// Node returns workspace ws's node id.
func (r *Reader) Node(ctx context.Context, ws, id string) (*sw.Node, error) {
	n, err := scanNode(r.db.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "node", id)
	}
	nodes := []sw.Node{*n}
	if err := r.loadNodeComponents(ctx, ws, nodes); err != nil {
		return nil, err
	}
	return &nodes[0], nil
}

// NodeByToken finds the node whose token is token, in any workspace: the
// token alone says which workspace the agent reports to.
func (r *Reader) NodeByToken(ctx context.Context, token string) (*sw.Node, error) {
	n, err := scanNode(r.db.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE token_hash = $1`, secret.Hash(token)))
	if err != nil {
		return nil, notFound(err, "node token", secret.Prefix(token))
	}
	return n, nil
}

// CreateNode stores a new node linked to the components named by refs and
// returns its token, which is not stored and cannot be shown again.
func (tx *Tx) CreateNode(ctx context.Context, n *sw.Node, refs []string) (string, error) {
	if err := sw.CheckText("name", n.Name, sw.MaxNameLen, true); err != nil {
		return "", err
	}
	comps, err := tx.ResolveComponents(ctx, n.WorkspaceID, "components", refs)
	if err != nil {
		return "", err
	}
	token := secret.New(secret.KindNodeToken)
	n.ID = sw.NewID(sw.PrefixNode)
	n.TokenPrefix = secret.Prefix(token)
	n.CreatedAt, n.UpdatedAt = tx.now, tx.now
	_, err = tx.db.ExecContext(ctx, `INSERT INTO nodes (id, workspace_id, name, token_prefix, token_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, n.WorkspaceID, n.Name, n.TokenPrefix, secret.Hash(token), ts(tx.now), ts(tx.now))
	if err != nil {
		return "", fmt.Errorf("create node: %w", err)
	}
	if err := tx.linkNode(ctx, n, comps); err != nil {
		return "", err
	}
	return token, nil
}

func (tx *Tx) linkNode(ctx context.Context, n *sw.Node, comps []sw.Component) error {
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM node_components WHERE node_id = $1`, n.ID); err != nil {
		return fmt.Errorf("link node %s: %w", n.ID, err)
	}
	n.Components = make([]string, 0, len(comps))
	for _, c := range comps {
		if _, err := tx.db.ExecContext(ctx, `INSERT INTO node_components (node_id, component_id) VALUES ($1, $2)`, n.ID, c.ID); err != nil {
			return fmt.Errorf("link node %s: %w", n.ID, err)
		}
		n.Components = append(n.Components, c.Slug)
	}
	return nil
}

// UpdateNode renames a node and, when refs is not nil, relinks it to those
// components.
func (tx *Tx) UpdateNode(ctx context.Context, n *sw.Node, refs []string) error {
	if err := sw.CheckText("name", n.Name, sw.MaxNameLen, true); err != nil {
		return err
	}
	n.UpdatedAt = tx.now
	res, err := tx.db.ExecContext(ctx, `UPDATE nodes SET name = $3, updated_at = $4, mitigation_policy = $5 WHERE workspace_id = $1 AND id = $2`,
		n.WorkspaceID, n.ID, n.Name, ts(tx.now), string(n.MitigationPolicy))
	if err := affectedOne(res, err, "node", n.ID); err != nil {
		return err
	}
	if refs == nil {
		return nil
	}
	comps, err := tx.ResolveComponents(ctx, n.WorkspaceID, "components", refs)
	if err != nil {
		return err
	}
	return tx.linkNode(ctx, n, comps)
}

// RotateNodeToken gives node id a new token; the old one stops working.
func (tx *Tx) RotateNodeToken(ctx context.Context, ws, id string) (string, error) {
	token := secret.New(secret.KindNodeToken)
	res, err := tx.db.ExecContext(ctx, `UPDATE nodes SET token_prefix = $3, token_hash = $4, updated_at = $5
		WHERE workspace_id = $1 AND id = $2`, ws, id, secret.Prefix(token), secret.Hash(token), ts(tx.now))
	if err := affectedOne(res, err, "node", id); err != nil {
		return "", err
	}
	return token, nil
}

// TrafficWindow is how much traffic history the dashboard's sparklines
// keep per node.
const TrafficWindow = time.Hour

// RecordHeartbeat stores a node's latest heartbeat and adds its rates to
// the node's traffic history, which keeps the last TrafficWindow.
func (tx *Tx) RecordHeartbeat(ctx context.Context, ws, id string, hb *sw.Heartbeat) error {
	summary, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	res, err := tx.db.ExecContext(ctx, `UPDATE nodes SET last_heartbeat_at = $3, last_heartbeat = $4
		WHERE workspace_id = $1 AND id = $2`, ws, id, ts(tx.now), string(summary))
	if err := affectedOne(res, err, "node", id); err != nil {
		return err
	}
	// Rates are stored as signed 64-bit numbers; nothing real comes near.
	pps, bps := int64(min(hb.PPS, 1<<62)), int64(min(hb.BPS, 1<<62))
	if _, err := tx.db.ExecContext(ctx, `INSERT INTO node_traffic (workspace_id, node_id, at, pps, bps) VALUES ($1, $2, $3, $4, $5)`,
		ws, id, ts(tx.now), pps, bps); err != nil {
		return fmt.Errorf("record traffic: %w", err)
	}
	_, err = tx.db.ExecContext(ctx, `DELETE FROM node_traffic WHERE workspace_id = $1 AND node_id = $2 AND at < $3`,
		ws, id, ts(tx.now.Add(-TrafficWindow)))
	return err
}

// TrafficSample is a node's traffic at one heartbeat.
type TrafficSample struct {
	At       time.Time
	PPS, BPS uint64
}

// Traffic returns each of workspace ws's nodes' traffic history since a
// time, oldest first, by node id.
func (r *Reader) Traffic(ctx context.Context, ws string, since time.Time) (map[string][]TrafficSample, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT node_id, at, pps, bps FROM node_traffic
		WHERE workspace_id = $1 AND at >= $2 ORDER BY node_id, at`, ws, ts(since))
	if err != nil {
		return nil, fmt.Errorf("read traffic: %w", err)
	}
	defer rows.Close()
	out := map[string][]TrafficSample{}
	for rows.Next() {
		var node string
		var at, pps, bps int64
		if err := rows.Scan(&node, &at, &pps, &bps); err != nil {
			return nil, err
		}
		out[node] = append(out[node], TrafficSample{At: fromTS(at), PPS: uint64(pps), BPS: uint64(bps)})
	}
	return out, rows.Err()
}

// DeleteNode removes a node; its token stops working at once.
func (tx *Tx) DeleteNode(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM nodes WHERE workspace_id = $1 AND id = $2 AND kind = 'agent'`, ws, id)
	return affectedOne(res, err, "node", id)
}

// SilentNodes lists the nodes, of every workspace, whose last heartbeat is
// older than before (nodes that never sent one are not silent, only new).
func (r *Reader) SilentNodes(ctx context.Context, before time.Time) ([]sw.Node, error) {
	out, err := queryAll(ctx, r.db, scanNode, `SELECT `+nodeColumns+` FROM nodes WHERE last_heartbeat_at IS NOT NULL AND last_heartbeat_at < $1
		ORDER BY id LIMIT 10000`, ts(before))
	if err != nil {
		return nil, fmt.Errorf("silent nodes: %w", err)
	}
	return out, nil
}
