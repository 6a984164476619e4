package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

const workspaceColumns = `id, slug, name, timezone, page_title, logo_url, favicon_url, brand_color,
	footer_links, hide_badge, revision, created_at, updated_at, public_attack_details, mail_from, subscribe_channels,
	language, private, access_password_hash, access_ip_ranges, access_key`

func scanWorkspace(row rowScanner) (*sw.Workspace, error) {
	var w sw.Workspace
	var links, channels, ranges string
	var created, updated int64
	err := row.Scan(&w.ID, &w.Slug, &w.Name, &w.Timezone, &w.Branding.PageTitle, &w.Branding.LogoURL,
		&w.Branding.FaviconURL, &w.Branding.BrandColor, &links, &w.Branding.HideBadge, &w.Revision, &created, &updated, &w.PublicAttackDetails, &w.MailFrom,
		&channels, &w.Language, &w.Access.Private, &w.Access.PasswordHash, &ranges, &w.Access.Key)
	if err != nil {
		return nil, err
	}
	w.Access.HasPassword = w.Access.PasswordHash != ""
	w.Access.IPRanges = []string{}
	if ranges != "" {
		if err := json.Unmarshal([]byte(ranges), &w.Access.IPRanges); err != nil {
			return nil, fmt.Errorf("workspace %s access ranges: %w", w.ID, err)
		}
	}
	w.SubscribeChannels = sw.DefaultSubscribeChannels
	if channels != "" {
		if err := json.Unmarshal([]byte(channels), &w.SubscribeChannels); err != nil {
			return nil, fmt.Errorf("workspace %s subscribe channels: %w", w.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(links), &w.Branding.FooterLinks); err != nil {
		return nil, fmt.Errorf("workspace %s footer links: %w", w.ID, err)
	}
	if w.Branding.FooterLinks == nil {
		w.Branding.FooterLinks = []sw.FooterLink{}
	}
	w.CreatedAt, w.UpdatedAt = fromTS(created), fromTS(updated)
	return &w, nil
}

// Workspace returns the workspace with id.
func (r *Reader) Workspace(ctx context.Context, id string) (*sw.Workspace, error) {
	w, err := scanWorkspace(r.db.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "workspace", id)
	}
	return w, nil
}

// WorkspaceBySlug returns the workspace with slug.
func (r *Reader) WorkspaceBySlug(ctx context.Context, slug string) (*sw.Workspace, error) {
	w, err := scanWorkspace(r.db.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE slug = $1`, slug))
	if err != nil {
		return nil, notFound(err, "workspace", slug)
	}
	return w, nil
}

// Workspaces lists all workspaces, oldest first. It is for operators of
// the whole installation, never for a workspace's API.
func (r *Reader) Workspaces(ctx context.Context) ([]sw.Workspace, error) {
	out, err := queryAll(ctx, r.db, scanWorkspace, `SELECT `+workspaceColumns+` FROM workspaces ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	return out, nil
}

// CreateWorkspace stores a new workspace; its ID, revision and times are
// filled in.
func (tx *Tx) CreateWorkspace(ctx context.Context, w *sw.Workspace) error {
	if err := sw.CheckSlug("slug", w.Slug); err != nil {
		return err
	}
	if err := sw.CheckText("name", w.Name, sw.MaxNameLen, true); err != nil {
		return err
	}
	if w.Timezone == "" {
		w.Timezone = "UTC"
	}
	if w.Branding.FooterLinks == nil {
		w.Branding.FooterLinks = []sw.FooterLink{}
	}
	links, err := json.Marshal(w.Branding.FooterLinks)
	if err != nil {
		return err
	}
	w.ID = sw.NewID(sw.PrefixWorkspace)
	w.Revision = 1
	w.CreatedAt, w.UpdatedAt = tx.now, tx.now
	w.Access.Key = NewAccessKey()
	_, err = tx.db.ExecContext(ctx, `INSERT INTO workspaces (`+workspaceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		w.ID, w.Slug, w.Name, w.Timezone, w.Branding.PageTitle, w.Branding.LogoURL, w.Branding.FaviconURL,
		w.Branding.BrandColor, string(links), w.Branding.HideBadge, w.Revision, ts(w.CreatedAt), ts(w.UpdatedAt), w.PublicAttackDetails, w.MailFrom,
		channelsJSON(w.SubscribeChannels), w.Language, w.Access.Private, w.Access.PasswordHash, rangesJSON(w.Access.IPRanges), w.Access.Key)
	if isUniqueViolation(err) {
		return fmt.Errorf("workspace slug %q is taken: %w", w.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	return nil
}

// UpdateWorkspace saves a workspace's name, timezone, branding, language
// and who may read its page (w.Access as given: its password hash and
// key included).
func (tx *Tx) UpdateWorkspace(ctx context.Context, w *sw.Workspace) error {
	if err := sw.CheckText("name", w.Name, sw.MaxNameLen, true); err != nil {
		return err
	}
	links, err := json.Marshal(w.Branding.FooterLinks)
	if err != nil {
		return err
	}
	if w.MailFrom != "" {
		if _, err := sw.CheckEmail("mail_from", w.MailFrom); err != nil {
			return err
		}
	}
	w.UpdatedAt = tx.now
	res, err := tx.db.ExecContext(ctx, `UPDATE workspaces SET name = $2, timezone = $3, page_title = $4, logo_url = $5,
		favicon_url = $6, brand_color = $7, footer_links = $8, hide_badge = $9, updated_at = $10, public_attack_details = $11, mail_from = $12,
		subscribe_channels = $13, language = $14, private = $15, access_password_hash = $16, access_ip_ranges = $17, access_key = $18
		WHERE id = $1`,
		w.ID, w.Name, w.Timezone, w.Branding.PageTitle, w.Branding.LogoURL, w.Branding.FaviconURL, w.Branding.BrandColor,
		string(links), w.Branding.HideBadge, ts(w.UpdatedAt), w.PublicAttackDetails, w.MailFrom, channelsJSON(w.SubscribeChannels),
		w.Language, w.Access.Private, w.Access.PasswordHash, rangesJSON(w.Access.IPRanges), w.Access.Key)
	if err := affectedOne(res, err, "workspace", w.ID); err != nil {
		return err
	}
	tx.pageChanged(w.ID)
	return nil
}

// affectedOne checks that an UPDATE or DELETE touched a row.
func affectedOne(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return nil
}

// DeleteWorkspace removes workspace id and, through the schema's cascades,
// everything in it: its page stops being served at once.
func (tx *Tx) DeleteWorkspace(ctx context.Context, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
	if err := affectedOne(res, err, "workspace", id); err != nil {
		return err
	}
	tx.pageChanged(id)
	return nil
}

// rangesJSON stores a page's access ranges ("" for none).
func rangesJSON(r []string) string {
	if len(r) == 0 {
		return ""
	}
	b, _ := json.Marshal(r) // a list of strings always encodes
	return string(b)
}

// NewAccessKey makes a workspace's key for access cookies.
func NewAccessKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// channelsJSON stores a page's subscription kinds ("" for the default).
func channelsJSON(c []string) string {
	if c == nil {
		return ""
	}
	raw, _ := json.Marshal(c)
	return string(raw)
}
