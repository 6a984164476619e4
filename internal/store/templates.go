package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

const templateColumns = `id, workspace_id, name, title, message, impact, components, created_at, updated_at, title_translations, message_translations`

func scanTemplate(row rowScanner) (*sw.IncidentTemplate, error) {
	var t sw.IncidentTemplate
	var comps, titles, messages string
	var created, updated int64
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.Name, &t.Title, &t.Message, &t.Impact, &comps, &created, &updated, &titles, &messages); err != nil {
		return nil, err
	}
	if err := unmarshalTranslations(titles, &t.TitleTranslations); err != nil {
		return nil, fmt.Errorf("template %s title translations: %w", t.ID, err)
	}
	if err := unmarshalTranslations(messages, &t.MessageTranslations); err != nil {
		return nil, fmt.Errorf("template %s message translations: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(comps), &t.Components); err != nil {
		return nil, fmt.Errorf("template %s components: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = fromTS(created), fromTS(updated)
	return &t, nil
}

// IncidentTemplates lists workspace ws's templates by name.
func (r *Reader) IncidentTemplates(ctx context.Context, ws string, p Page) ([]sw.IncidentTemplate, bool, error) {
	p = p.clamp()
	out, more, err := queryPage(ctx, r.db, p, scanTemplate, `SELECT `+templateColumns+` FROM incident_templates WHERE workspace_id = $1
		ORDER BY name, id LIMIT $2 OFFSET $3`, ws, p.Limit+1, p.Offset)
	if err != nil {
		return nil, false, fmt.Errorf("list templates: %w", err)
	}
	return out, more, nil
}

// IncidentTemplate returns workspace ws's template by id or name.
func (r *Reader) IncidentTemplate(ctx context.Context, ws, ref string) (*sw.IncidentTemplate, error) {
	col := "name"
	if sw.HasPrefix(ref, sw.PrefixTemplate) {
		col = "id"
	}
	t, err := scanTemplate(r.db.QueryRowContext(ctx, `SELECT `+templateColumns+` FROM incident_templates WHERE workspace_id = $1 AND `+col+` = $2`, ws, ref))
	if err != nil {
		return nil, notFound(err, "incident template", ref)
	}
	return t, nil
}

// checkTemplateComponents refuses statuses for components the workspace
// does not have.
func (tx *Tx) checkTemplateComponents(ctx context.Context, t *sw.IncidentTemplate) error {
	for slug := range t.Components {
		if _, err := tx.Component(ctx, t.WorkspaceID, slug); err != nil {
			return sw.Invalid("components."+slug, "no component %q in this workspace", slug)
		}
	}
	return nil
}

// SaveIncidentTemplate creates t, or updates it when it has an id.
func (tx *Tx) SaveIncidentTemplate(ctx context.Context, t *sw.IncidentTemplate) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := tx.checkTemplateComponents(ctx, t); err != nil {
		return err
	}
	comps, err := json.Marshal(t.Components)
	if err != nil {
		return err
	}
	t.UpdatedAt = tx.now
	var res sql.Result
	if t.ID == "" {
		t.ID, t.CreatedAt = sw.NewID(sw.PrefixTemplate), tx.now
		res, err = tx.db.ExecContext(ctx, `INSERT INTO incident_templates (`+templateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			t.ID, t.WorkspaceID, t.Name, t.Title, t.Message, string(t.Impact), string(comps), ts(t.CreatedAt), ts(t.UpdatedAt),
			marshalTranslations(t.TitleTranslations), marshalTranslations(t.MessageTranslations))
	} else {
		res, err = tx.db.ExecContext(ctx, `UPDATE incident_templates SET name = $3, title = $4, message = $5, impact = $6, components = $7,
			updated_at = $8, title_translations = $9, message_translations = $10 WHERE workspace_id = $1 AND id = $2`, t.WorkspaceID, t.ID, t.Name,
			t.Title, t.Message, string(t.Impact), string(comps), ts(t.UpdatedAt), marshalTranslations(t.TitleTranslations), marshalTranslations(t.MessageTranslations))
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("a template named %q exists in this workspace: %w", t.Name, ErrConflict)
	}
	return affectedOne(res, err, "incident template", t.ID)
}

// DeleteIncidentTemplate removes workspace ws's template id.
func (tx *Tx) DeleteIncidentTemplate(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM incident_templates WHERE workspace_id = $1 AND id = $2`, ws, id)
	return affectedOne(res, err, "incident template", id)
}
