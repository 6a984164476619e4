package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

const groupColumns = `id, workspace_id, name, description, position, created_at, updated_at`

func scanGroup(row rowScanner) (*sw.Group, error) {
	var g sw.Group
	var created, updated int64
	if err := row.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.Position, &created, &updated); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromTS(created), fromTS(updated)
	return &g, nil
}

func checkGroup(g *sw.Group) error {
	if err := sw.CheckText("name", g.Name, sw.MaxNameLen, true); err != nil {
		return err
	}
	return sw.CheckText("description", g.Description, sw.MaxDescLen, false)
}

// Groups lists workspace ws's component groups in page order.
func (r *Reader) Groups(ctx context.Context, ws string, p Page) ([]sw.Group, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanGroup, `SELECT `+groupColumns+` FROM component_groups WHERE workspace_id = $1
		ORDER BY position, created_at, id LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list groups: %w", err)
	}
	return out, more, nil
}

// Group returns workspace ws's group id.
func (r *Reader) Group(ctx context.Context, ws, id string) (*sw.Group, error) {
	g, err := scanGroup(r.db.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM component_groups WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "group", id)
	}
	return g, nil
}

// CreateGroup stores a new group in g.WorkspaceID.
func (tx *Tx) CreateGroup(ctx context.Context, g *sw.Group) error {
	if err := checkGroup(g); err != nil {
		return err
	}
	g.ID = sw.NewID(sw.PrefixGroup)
	g.CreatedAt, g.UpdatedAt = tx.now, tx.now
	_, err := tx.db.ExecContext(ctx, `INSERT INTO component_groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.WorkspaceID, g.Name, g.Description, g.Position, ts(tx.now), ts(tx.now))
	if err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	tx.pageChanged(g.WorkspaceID)
	return nil
}

// UpdateGroup saves a group's name, description and position.
func (tx *Tx) UpdateGroup(ctx context.Context, g *sw.Group) error {
	if err := checkGroup(g); err != nil {
		return err
	}
	g.UpdatedAt = tx.now
	res, err := tx.db.ExecContext(ctx, `UPDATE component_groups SET name = $3, description = $4, position = $5, updated_at = $6
		WHERE workspace_id = $1 AND id = $2`, g.WorkspaceID, g.ID, g.Name, g.Description, g.Position, ts(tx.now))
	if err := affectedOne(res, err, "group", g.ID); err != nil {
		return err
	}
	tx.pageChanged(g.WorkspaceID)
	return nil
}

// DeleteGroup removes a group; its components stay, ungrouped.
func (tx *Tx) DeleteGroup(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM component_groups WHERE workspace_id = $1 AND id = $2`, ws, id)
	if err := affectedOne(res, err, "group", id); err != nil {
		return err
	}
	tx.pageChanged(ws)
	return nil
}

const componentColumns = `id, workspace_id, COALESCE(group_id, ''), slug, name, description, position, status, created_at, updated_at, private`

func scanComponent(row rowScanner) (*sw.Component, error) {
	var c sw.Component
	var created, updated int64
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.GroupID, &c.Slug, &c.Name, &c.Description, &c.Position, &c.Status, &created, &updated, &c.Private); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

func (r *Reader) queryComponents(ctx context.Context, query string, args ...any) ([]sw.Component, error) {
	out, err := queryAll(ctx, r.db, scanComponent, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	return out, nil
}

// Components lists workspace ws's components in page order.
func (r *Reader) Components(ctx context.Context, ws string, p Page) ([]sw.Component, bool, error) {
	p = p.clamp()
	out, err := r.queryComponents(ctx, `SELECT `+componentColumns+` FROM components WHERE workspace_id = $1
		ORDER BY position, created_at, id LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, err
	}
	out, more := trim(out, p)
	return out, more, nil
}

// Component returns workspace ws's component by id or slug.
func (r *Reader) Component(ctx context.Context, ws, ref string) (*sw.Component, error) {
	col := "slug"
	if sw.HasPrefix(ref, sw.PrefixComponent) {
		col = "id"
	}
	c, err := scanComponent(r.db.QueryRowContext(ctx, `SELECT `+componentColumns+` FROM components
		WHERE workspace_id = $1 AND `+col+` = $2`, ws, ref))
	if err != nil {
		return nil, notFound(err, "component", ref)
	}
	return c, nil
}

// ResolveComponents looks up components by id or slug in workspace ws, in
// the order given, without repeats. An unknown reference is a validation
// error on field.
func (r *Reader) ResolveComponents(ctx context.Context, ws, field string, refs []string) ([]sw.Component, error) {
	out := make([]sw.Component, 0, len(refs))
	seen := map[string]bool{}
	for i, ref := range refs {
		c, err := r.Component(ctx, ws, ref)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, sw.Invalid(fmt.Sprintf("%s[%d]", field, i), "no component %q in this workspace", ref)
			}
			return nil, err
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, *c)
		}
	}
	return out, nil
}

func (tx *Tx) checkComponent(ctx context.Context, c *sw.Component) error {
	if err := sw.CheckSlug("slug", c.Slug); err != nil {
		return err
	}
	if err := sw.CheckText("name", c.Name, sw.MaxNameLen, true); err != nil {
		return err
	}
	if err := sw.CheckText("description", c.Description, sw.MaxDescLen, false); err != nil {
		return err
	}
	if !c.Status.Valid() {
		return sw.Invalid("status", "must be one of operational, degraded_performance, partial_outage, major_outage, under_maintenance")
	}
	if c.GroupID != "" {
		if _, err := tx.Group(ctx, c.WorkspaceID, c.GroupID); err != nil {
			return sw.Invalid("group_id", "no group %q in this workspace", c.GroupID)
		}
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateComponent stores a new component and the first entry of its status
// history.
func (tx *Tx) CreateComponent(ctx context.Context, c *sw.Component) error {
	if c.Status == "" {
		c.Status = sw.Operational
	}
	if err := tx.checkComponent(ctx, c); err != nil {
		return err
	}
	c.ID = sw.NewID(sw.PrefixComponent)
	c.CreatedAt, c.UpdatedAt = tx.now, tx.now
	_, err := tx.db.ExecContext(ctx, `INSERT INTO components (id, workspace_id, group_id, slug, name, description, position, status, created_at, updated_at, private)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.WorkspaceID, nullString(c.GroupID), c.Slug, c.Name, c.Description, c.Position, string(c.Status), ts(tx.now), ts(tx.now), c.Private)
	if isUniqueViolation(err) {
		return fmt.Errorf("component slug %q is taken in this workspace: %w", c.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create component: %w", err)
	}
	if err := tx.recordStatus(ctx, c.WorkspaceID, c.ID, c.Status, ""); err != nil {
		return err
	}
	tx.pageChanged(c.WorkspaceID)
	return nil
}

// UpdateComponent saves a component's fields; a status change is recorded
// in its history.
func (tx *Tx) UpdateComponent(ctx context.Context, c *sw.Component) error {
	if err := tx.checkComponent(ctx, c); err != nil {
		return err
	}
	old, err := tx.Component(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		return err
	}
	c.UpdatedAt = tx.now
	_, err = tx.db.ExecContext(ctx, `UPDATE components SET group_id = $3, slug = $4, name = $5, description = $6,
		position = $7, status = $8, updated_at = $9, private = $10 WHERE workspace_id = $1 AND id = $2`,
		c.WorkspaceID, c.ID, nullString(c.GroupID), c.Slug, c.Name, c.Description, c.Position, string(c.Status), ts(tx.now), c.Private)
	if isUniqueViolation(err) {
		return fmt.Errorf("component slug %q is taken in this workspace: %w", c.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update component %s: %w", c.ID, err)
	}
	if old.Status != c.Status {
		if err := tx.recordStatus(ctx, c.WorkspaceID, c.ID, c.Status, ""); err != nil {
			return err
		}
	}
	tx.pageChanged(c.WorkspaceID)
	return nil
}

// SetComponentStatus changes one component's status on behalf of an
// incident (or of nobody, with incidentID ""), recording the change.
func (tx *Tx) SetComponentStatus(ctx context.Context, ws, id string, status sw.ComponentStatus, incidentID string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE components SET status = $3, updated_at = $4
		WHERE workspace_id = $1 AND id = $2 AND status <> $3`, ws, id, string(status), ts(tx.now))
	if err != nil {
		return fmt.Errorf("set status of component %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already in that status: nothing to record
	}
	if err := tx.recordStatus(ctx, ws, id, status, incidentID); err != nil {
		return err
	}
	tx.pageChanged(ws)
	return nil
}

func (tx *Tx) recordStatus(ctx context.Context, ws, component string, status sw.ComponentStatus, incident string) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO component_status_changes (id, workspace_id, component_id, status, incident_id, at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sw.NewID(sw.PrefixStatusChange), ws, component, string(status), incident, ts(tx.now))
	if err != nil {
		return fmt.Errorf("record status of component %s: %w", component, err)
	}
	return nil
}

// StatusHistory returns component id's status changes in time order.
func (r *Reader) StatusHistory(ctx context.Context, ws, id string) ([]sw.StatusChange, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, component_id, status, incident_id, at FROM component_status_changes
		WHERE workspace_id = $1 AND component_id = $2 ORDER BY at, id`, ws, id)
	if err != nil {
		return nil, fmt.Errorf("status history of %s: %w", id, err)
	}
	defer rows.Close()
	var out []sw.StatusChange
	for rows.Next() {
		var c sw.StatusChange
		var at int64
		if err := rows.Scan(&c.ID, &c.ComponentID, &c.Status, &c.IncidentID, &at); err != nil {
			return nil, err
		}
		c.At = fromTS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteComponent removes a component; incidents keep their other
// components.
func (tx *Tx) DeleteComponent(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM components WHERE workspace_id = $1 AND id = $2`, ws, id)
	if err := affectedOne(res, err, "component", id); err != nil {
		return err
	}
	tx.pageChanged(ws)
	return nil
}
