package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

// ComponentChange sets the status an incident gives one component, named
// by id or slug. Operational removes the component from the incident.
type ComponentChange struct {
	Ref    string
	Status sw.ComponentStatus
}

// IncidentFilter narrows an incident listing.
type IncidentFilter struct {
	// Unresolved keeps only incidents that are not resolved; Resolved only
	// those that are. Both false keeps all.
	Unresolved, Resolved bool
}

const incidentColumns = `id, workspace_id, title, status, impact, severity, source, pinned, created_at, updated_at, resolved_at, visibility,
	postmortem, postmortem_published_at, title_translations`

func scanIncident(row rowScanner) (*sw.Incident, error) {
	var i sw.Incident
	var created, updated int64
	var resolved, pmAt sql.NullInt64
	var pm, titles string
	if err := row.Scan(&i.ID, &i.WorkspaceID, &i.Title, &i.Status, &i.Impact, &i.Severity, &i.Source, &i.Pinned,
		&created, &updated, &resolved, &i.Visibility, &pm, &pmAt, &titles); err != nil {
		return nil, err
	}
	if err := unmarshalTranslations(titles, &i.TitleTranslations); err != nil {
		return nil, fmt.Errorf("incident %s title translations: %w", i.ID, err)
	}
	if pm != "" {
		i.Postmortem = &sw.Postmortem{Markdown: pm, PublishedAt: fromNullTS(pmAt)}
	}
	i.CreatedAt, i.UpdatedAt, i.ResolvedAt = fromTS(created), fromTS(updated), fromNullTS(resolved)
	i.Components = []sw.IncidentComponent{}
	i.Updates = []sw.IncidentUpdate{}
	return &i, nil
}

// Incident returns workspace ws's incident id with its components and its
// updates, newest update first.
// LockIncident holds workspace ws's incident id until the transaction
// ends, so that two events judging it at once (two attacks ending a
// moment apart on two replicas) take turns and each sees what the other
// did. SQLite's write transactions already take turns.
func (tx *Tx) LockIncident(ctx context.Context, ws, id string) error {
	if tx.dialect != Postgres {
		return nil
	}
	var got string
	if err := tx.db.QueryRowContext(ctx, `SELECT id FROM incidents WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, ws, id).Scan(&got); err != nil {
		return notFound(err, "incident", id)
	}
	return nil
}

func (r *Reader) Incident(ctx context.Context, ws, id string) (*sw.Incident, error) {
	inc, err := scanIncident(r.db.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "incident", id)
	}
	list := []sw.Incident{*inc}
	if err := r.loadIncidentDetails(ctx, ws, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// Incidents lists workspace ws's incidents, newest first.
func (r *Reader) Incidents(ctx context.Context, ws string, f IncidentFilter, p Page) ([]sw.Incident, bool, error) {
	p = p.clamp()
	where := ""
	switch {
	case f.Unresolved && !f.Resolved:
		where = ` AND status <> 'resolved'`
	case f.Resolved && !f.Unresolved:
		where = ` AND status = 'resolved'`
	}
	out, more, err := queryPage(ctx, r.db, p, scanIncident, `SELECT `+incidentColumns+` FROM incidents WHERE workspace_id = $1`+where+`
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list incidents: %w", err)
	}
	return out, more, r.loadIncidentDetails(ctx, ws, out)
}

// loadIncidentDetails fills the components and updates of incidents with
// two queries, whatever their number.
func (r *Reader) loadIncidentDetails(ctx context.Context, ws string, incs []sw.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	idx := map[string]*sw.Incident{}
	args := []any{ws}
	for i := range incs {
		idx[incs[i].ID] = &incs[i]
		args = append(args, incs[i].ID)
	}
	in := placeholders(2, len(incs))
	rows, err := r.db.QueryContext(ctx, `SELECT ic.incident_id, c.id, c.slug, c.name, ic.status FROM incident_components ic
		JOIN components c ON c.id = ic.component_id AND c.workspace_id = $1
		WHERE ic.incident_id IN (`+in+`) ORDER BY c.position, c.created_at, c.id`, args...)
	if err != nil {
		return fmt.Errorf("incident components: %w", err)
	}
	for rows.Next() {
		var incID string
		var c sw.IncidentComponent
		if err := rows.Scan(&incID, &c.ComponentID, &c.Slug, &c.Name, &c.Status); err != nil {
			rows.Close()
			return err
		}
		idx[incID].Components = append(idx[incID].Components, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.db.QueryContext(ctx, `SELECT incident_id, id, status, message, created_at, message_translations FROM incident_updates
		WHERE workspace_id = $1 AND incident_id IN (`+in+`) ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return fmt.Errorf("incident updates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var incID string
		var u sw.IncidentUpdate
		var at int64
		var translations string
		if err := rows.Scan(&incID, &u.ID, &u.Status, &u.Message, &at, &translations); err != nil {
			return err
		}
		if err := unmarshalTranslations(translations, &u.MessageTranslations); err != nil {
			return fmt.Errorf("update %s translations: %w", u.ID, err)
		}
		u.CreatedAt = fromTS(at)
		idx[incID].Updates = append(idx[incID].Updates, u)
	}
	return rows.Err()
}

func checkIncident(inc *sw.Incident) error {
	if err := sw.CheckText("title", inc.Title, sw.MaxTitleLen, true); err != nil {
		return err
	}
	if !inc.Status.Valid() {
		return sw.Invalid("status", "must be one of investigating, identified, monitoring, resolved")
	}
	if !inc.Impact.Valid() {
		return sw.Invalid("impact", "must be one of none, minor, major, critical")
	}
	if !inc.Severity.Valid() {
		return sw.Invalid("severity", "must be one of low, medium, high, critical")
	}
	if inc.Source != sw.SourceAuto && inc.Source != sw.SourceManual {
		return sw.Invalid("source", "must be auto or manual")
	}
	switch inc.Visibility {
	case sw.VisibilityPublic, sw.VisibilityDraft, sw.VisibilityObserved:
	default:
		return sw.Invalid("visibility", "must be public, draft or observed")
	}
	return nil
}

func checkChanges(changes []ComponentChange) error {
	for _, ch := range changes {
		if !ch.Status.Valid() || ch.Status == sw.UnderMaintenance {
			return sw.Invalid("components."+ch.Ref, "must be one of operational, degraded_performance, partial_outage, major_outage")
		}
	}
	return nil
}

// CreateIncident stores a new incident with its first update (message),
// the statuses it gives its components, and the components' new statuses,
// all in this transaction. Empty impact is derived from the worst status;
// empty severity from the impact.
//
// translated holds the message in other languages (automatic incidents);
// inc.TitleTranslations the title.
func (tx *Tx) CreateIncident(ctx context.Context, inc *sw.Incident, changes []ComponentChange, message string, translated sw.Translations) error {
	if inc.Status == "" {
		inc.Status = sw.Investigating
	}
	if inc.Source == "" {
		inc.Source = sw.SourceManual
	}
	if inc.Visibility == "" {
		inc.Visibility = sw.VisibilityPublic
	}
	if err := checkChanges(changes); err != nil {
		return err
	}
	if inc.Impact == "" {
		worst := sw.Operational
		for _, ch := range changes {
			worst = sw.Worse(worst, ch.Status)
		}
		inc.Impact = sw.ImpactForStatus(worst)
	}
	if inc.Severity == "" {
		inc.Severity = sw.SeverityForImpact(inc.Impact)
	}
	if err := checkIncident(inc); err != nil {
		return err
	}
	if err := sw.CheckText("message", message, sw.MaxMessageLen, false); err != nil {
		return err
	}
	inc.ID = sw.NewID(sw.PrefixIncident)
	inc.CreatedAt, inc.UpdatedAt = tx.now, tx.now
	if inc.Status == sw.Resolved {
		now := tx.now
		inc.ResolvedAt = &now
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO incidents (`+incidentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', NULL, $13)`,
		inc.ID, inc.WorkspaceID, inc.Title, string(inc.Status), string(inc.Impact), string(inc.Severity), string(inc.Source),
		inc.Pinned, ts(tx.now), ts(tx.now), nullTS(inc.ResolvedAt), inc.Visibility, marshalTranslations(inc.TitleTranslations))
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	if err := tx.applyChanges(ctx, inc.WorkspaceID, inc.ID, changes); err != nil {
		return err
	}
	if err := tx.insertUpdate(ctx, inc.WorkspaceID, inc.ID, inc.Status, message, translated); err != nil {
		return err
	}
	if inc.Visibility == sw.VisibilityPublic {
		tx.pageChanged(inc.WorkspaceID)
	}
	if err := tx.reload(ctx, inc); err != nil {
		return err
	}
	return tx.emitIncident(ctx, sw.EventIncidentCreated, inc)
}

// IncidentEdit changes an incident; nil fields stay as they are.
type IncidentEdit struct {
	// Visibility "public" publishes a draft; a public incident cannot be
	// hidden again (delete it instead).
	Visibility *string
	Title      *string
	Status     *sw.IncidentStatus
	Impact     *sw.Impact
	Severity   *sw.Severity
	Pinned     *bool
	// Changes merge into the incident's components (operational removes).
	Changes []ComponentChange
	// Message, when not nil, adds an entry to the public timeline with the
	// incident's (new) status; MessageTranslations are its other languages.
	Message             *string
	MessageTranslations sw.Translations
	// TitleTranslations, when not nil, replace the title's translations;
	// a new Title without them drops the old ones (they would not match).
	TitleTranslations sw.Translations
}

// EditIncident applies e to workspace ws's incident id. A status change to
// resolved stamps resolved_at and returns every component to the status
// that the remaining incidents and maintenance windows give it.
func (tx *Tx) EditIncident(ctx context.Context, ws, id string, e IncidentEdit) (*sw.Incident, error) {
	inc, err := tx.Incident(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	before, wasPublic := inc.Status, inc.Visibility == sw.VisibilityPublic
	if e.Visibility != nil {
		if wasPublic && *e.Visibility != sw.VisibilityPublic {
			return nil, sw.Invalid("visibility", "a public incident cannot be hidden again; delete it if it was a mistake")
		}
		inc.Visibility = *e.Visibility
	}
	if e.Title != nil {
		if *e.Title != inc.Title {
			inc.TitleTranslations = nil
		}
		inc.Title = *e.Title
	}
	if e.TitleTranslations != nil {
		inc.TitleTranslations = e.TitleTranslations
	}
	if e.Status != nil {
		inc.Status = *e.Status
	}
	if e.Impact != nil {
		inc.Impact = *e.Impact
	}
	if e.Severity != nil {
		inc.Severity = *e.Severity
	}
	if e.Pinned != nil {
		inc.Pinned = *e.Pinned
	}
	if err := checkIncident(inc); err != nil {
		return nil, err
	}
	if err := checkChanges(e.Changes); err != nil {
		return nil, err
	}
	if e.Message != nil {
		if err := sw.CheckText("message", *e.Message, sw.MaxMessageLen, true); err != nil {
			return nil, err
		}
	}
	switch {
	case inc.Status == sw.Resolved && before != sw.Resolved:
		now := tx.now
		inc.ResolvedAt = &now
	case inc.Status != sw.Resolved:
		inc.ResolvedAt = nil
	}
	_, err = tx.db.ExecContext(ctx, `UPDATE incidents SET title = $3, status = $4, impact = $5, severity = $6, pinned = $7,
		updated_at = $8, resolved_at = $9, visibility = $10, title_translations = $11 WHERE workspace_id = $1 AND id = $2`,
		ws, id, inc.Title, string(inc.Status), string(inc.Impact), string(inc.Severity), inc.Pinned, ts(tx.now), nullTS(inc.ResolvedAt), inc.Visibility,
		marshalTranslations(inc.TitleTranslations))
	if err != nil {
		return nil, fmt.Errorf("update incident %s: %w", id, err)
	}
	if err := tx.applyChanges(ctx, ws, id, e.Changes); err != nil {
		return nil, err
	}
	if before != inc.Status || wasPublic != (inc.Visibility == sw.VisibilityPublic) {
		// Resolving, reopening or publishing changes what every component
		// of the incident derives from it.
		if err := tx.refreshComponents(ctx, ws, componentIDs(inc)); err != nil {
			return nil, err
		}
	}
	if e.Message != nil {
		if err := tx.insertUpdate(ctx, ws, id, inc.Status, *e.Message, e.MessageTranslations); err != nil {
			return nil, err
		}
	}
	if wasPublic || inc.Visibility == sw.VisibilityPublic {
		tx.pageChanged(ws)
	}
	if err := tx.reload(ctx, inc); err != nil {
		return nil, err
	}
	var event string
	switch {
	case !wasPublic:
		event = sw.EventIncidentCreated // publishing a draft is news to subscribers
	case inc.Status == sw.Resolved && before != sw.Resolved:
		event = sw.EventIncidentResolved
	case e.Message != nil || before != inc.Status || len(e.Changes) > 0:
		event = sw.EventIncidentUpdated
	default:
		return inc, nil // a title, pin or impact edit is not worth a message
	}
	return inc, tx.emitIncident(ctx, event, inc)
}

func (tx *Tx) reload(ctx context.Context, inc *sw.Incident) error {
	fresh, err := tx.Incident(ctx, inc.WorkspaceID, inc.ID)
	if err != nil {
		return err
	}
	*inc = *fresh
	return nil
}

func (tx *Tx) insertUpdate(ctx context.Context, ws, incident string, status sw.IncidentStatus, message string, translated sw.Translations) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO incident_updates (id, workspace_id, incident_id, status, message, created_at, message_translations)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, sw.NewID(sw.PrefixUpdate), ws, incident, string(status), message, ts(tx.now),
		marshalTranslations(translated))
	if err != nil {
		return fmt.Errorf("add update to incident %s: %w", incident, err)
	}
	return nil
}

// applyChanges records the statuses incident gives components and derives
// each component's shown status anew.
func (tx *Tx) applyChanges(ctx context.Context, ws, incident string, changes []ComponentChange) error {
	if len(changes) == 0 {
		return nil
	}
	refs := make([]string, len(changes))
	for i, ch := range changes {
		refs[i] = ch.Ref
	}
	comps, err := tx.ResolveComponents(ctx, ws, "components", refs)
	if err != nil {
		return err
	}
	byRef := map[string]sw.ComponentStatus{}
	for _, ch := range changes {
		byRef[ch.Ref] = ch.Status
	}
	for _, c := range comps {
		st, ok := byRef[c.Slug]
		if !ok {
			st = byRef[c.ID]
		}
		if st == sw.Operational {
			_, err = tx.db.ExecContext(ctx, `DELETE FROM incident_components WHERE incident_id = $1 AND component_id = $2`, incident, c.ID)
		} else {
			_, err = tx.db.ExecContext(ctx, `INSERT INTO incident_components (incident_id, component_id, status) VALUES ($1, $2, $3)
				ON CONFLICT (incident_id, component_id) DO UPDATE SET status = excluded.status`, incident, c.ID, string(st))
		}
		if err != nil {
			return fmt.Errorf("incident %s component %s: %w", incident, c.Slug, err)
		}
		if err := tx.refreshComponentStatus(ctx, ws, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// componentIDs returns the ids of an incident's components.
func componentIDs(inc *sw.Incident) []string {
	ids := make([]string, len(inc.Components))
	for i, c := range inc.Components {
		ids[i] = c.ComponentID
	}
	return ids
}

// refreshComponents derives the shown status of each component anew.
func (tx *Tx) refreshComponents(ctx context.Context, ws string, ids []string) error {
	for _, id := range ids {
		if err := tx.refreshComponentStatus(ctx, ws, id); err != nil {
			return err
		}
	}
	return nil
}

// refreshComponentStatus sets a component to the worst status given it by
// unresolved incidents and in-progress maintenance, operational if none.
func (tx *Tx) refreshComponentStatus(ctx context.Context, ws, component string) error {
	rows, err := tx.db.QueryContext(ctx, `SELECT ic.status, i.id FROM incident_components ic
		JOIN incidents i ON i.id = ic.incident_id
		WHERE i.workspace_id = $1 AND ic.component_id = $2 AND i.status <> 'resolved' AND i.visibility = 'public'
		ORDER BY i.created_at, i.id`, ws, component)
	if err != nil {
		return fmt.Errorf("derive status of component %s: %w", component, err)
	}
	status, cause := sw.Operational, ""
	for rows.Next() {
		var st sw.ComponentStatus
		var inc string
		if err := rows.Scan(&st, &inc); err != nil {
			rows.Close()
			return err
		}
		if w := sw.Worse(status, st); w != status {
			status, cause = w, inc
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var inMaintenance int
	err = tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM maintenance_components mc
		JOIN maintenances m ON m.id = mc.maintenance_id
		WHERE m.workspace_id = $1 AND mc.component_id = $2 AND m.state = 'in_progress'`, ws, component).Scan(&inMaintenance)
	if err != nil {
		return fmt.Errorf("derive status of component %s: %w", component, err)
	}
	if inMaintenance > 0 && status == sw.Operational {
		status = sw.UnderMaintenance
	}
	return tx.SetComponentStatus(ctx, ws, component, status, cause)
}

// DeleteIncident removes an incident and returns its components to the
// status the rest derive for them.
func (tx *Tx) DeleteIncident(ctx context.Context, ws, id string) error {
	inc, err := tx.Incident(ctx, ws, id)
	if err != nil {
		return err
	}
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM incidents WHERE workspace_id = $1 AND id = $2`, ws, id); err != nil {
		return fmt.Errorf("delete incident %s: %w", id, err)
	}
	tx.pageChanged(ws)
	return tx.refreshComponents(ctx, ws, componentIDs(inc))
}

// SetPostmortem stores workspace ws's incident id's post-mortem; publish
// puts it on the page (a published one stays published when edited).
func (tx *Tx) SetPostmortem(ctx context.Context, ws, id, markdown string, publish bool) (*sw.Incident, error) {
	if err := sw.CheckText("markdown", markdown, sw.MaxPostmortemLen, true); err != nil {
		return nil, err
	}
	inc, err := tx.Incident(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	published := inc.Postmortem != nil && inc.Postmortem.PublishedAt != nil
	var at sql.NullInt64
	if published {
		at = nullTS(inc.Postmortem.PublishedAt)
	} else if publish {
		at = sql.NullInt64{Int64: ts(tx.now), Valid: true}
	}
	_, err = tx.db.ExecContext(ctx, `UPDATE incidents SET postmortem = $3, postmortem_published_at = $4, updated_at = $5
		WHERE workspace_id = $1 AND id = $2`, ws, id, markdown, at, ts(tx.now))
	if err != nil {
		return nil, fmt.Errorf("post-mortem of %s: %w", id, err)
	}
	if at.Valid && inc.Visibility == sw.VisibilityPublic {
		tx.pageChanged(ws)
	}
	return tx.Incident(ctx, ws, id)
}

// marshalTranslations stores translations as a JSON object ("" for none).
func marshalTranslations(t sw.Translations) string {
	if len(t) == 0 {
		return ""
	}
	b, _ := json.Marshal(t) // a map of strings always encodes
	return string(b)
}

func unmarshalTranslations(s string, t *sw.Translations) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), t)
}
