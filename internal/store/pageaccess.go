package store

import (
	"context"
	"fmt"

	sw "github.com/stormwatch/stormwatch"
)

// MaxPageInvites bounds a workspace's invited addresses.
const MaxPageInvites = 10000

// CreatePageInvite invites address to read workspace ws's private page;
// an address invited already is returned as it is.
func (tx *Tx) CreatePageInvite(ctx context.Context, ws, address string) (*sw.PageInvite, error) {
	addr, err := sw.CheckEmail("email", address)
	if err != nil {
		return nil, err
	}
	if old, err := tx.pageInvite(ctx, ws, addr); err == nil {
		return old, nil
	}
	var n int
	if err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM page_invites WHERE workspace_id = $1`, ws).Scan(&n); err != nil {
		return nil, fmt.Errorf("count page invites: %w", err)
	}
	if n >= MaxPageInvites {
		return nil, sw.Invalid("email", "a page can invite at most %d addresses", MaxPageInvites)
	}
	inv := &sw.PageInvite{ID: sw.NewID("inv_"), Email: addr, CreatedAt: tx.now}
	if _, err := tx.db.ExecContext(ctx, `INSERT INTO page_invites (id, workspace_id, email, created_at) VALUES ($1, $2, $3, $4)`,
		inv.ID, ws, inv.Email, ts(tx.now)); err != nil {
		return nil, fmt.Errorf("invite %s: %w", addr, err)
	}
	return inv, nil
}

func (r *Reader) pageInvite(ctx context.Context, ws, address string) (*sw.PageInvite, error) {
	var inv sw.PageInvite
	var at int64
	err := r.db.QueryRowContext(ctx, `SELECT id, email, created_at FROM page_invites WHERE workspace_id = $1 AND email = $2`, ws, address).
		Scan(&inv.ID, &inv.Email, &at)
	if err != nil {
		return nil, notFound(err, "page invite", address)
	}
	inv.CreatedAt = fromTS(at)
	return &inv, nil
}

// PageInviteFor returns workspace ws's invitation of address (matched as
// addresses are stored), or ErrNotFound.
func (r *Reader) PageInviteFor(ctx context.Context, ws, address string) (*sw.PageInvite, error) {
	addr, err := sw.CheckEmail("email", address)
	if err != nil {
		return nil, fmt.Errorf("page invite %q: %w", address, ErrNotFound)
	}
	return r.pageInvite(ctx, ws, addr)
}

// PageInvites lists workspace ws's invited addresses, oldest first.
func (r *Reader) PageInvites(ctx context.Context, ws string) ([]sw.PageInvite, error) {
	out, err := queryAll(ctx, r.db, func(row rowScanner) (*sw.PageInvite, error) {
		var inv sw.PageInvite
		var at int64
		if err := row.Scan(&inv.ID, &inv.Email, &at); err != nil {
			return nil, err
		}
		inv.CreatedAt = fromTS(at)
		return &inv, nil
	}, `SELECT id, email, created_at FROM page_invites WHERE workspace_id = $1 ORDER BY created_at, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("list page invites: %w", err)
	}
	if out == nil {
		out = []sw.PageInvite{}
	}
	return out, nil
}

// DeletePageInvite withdraws workspace ws's invitation id; links sent to
// it stop working.
func (tx *Tx) DeletePageInvite(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM page_invites WHERE workspace_id = $1 AND id = $2`, ws, id)
	return affectedOne(res, err, "page invite", id)
}

// PageAccessEdit changes who may read a workspace's page; nil fields
// stay as they are.
type PageAccessEdit struct {
	Private  *bool
	IPRanges *[]string
	// PasswordHash sets the password's hash ("" removes the password).
	PasswordHash *string
	// RevokeAll gives the page a new access key: every cookie and
	// invitation link stops working.
	RevokeAll bool
}

// EditPageAccess applies e to workspace ws and returns it, with what the
// audit log should say (never the password).
func (tx *Tx) EditPageAccess(ctx context.Context, ws string, e PageAccessEdit) (*sw.Workspace, map[string]any, error) {
	w, err := tx.Workspace(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	if e.Private != nil {
		w.Access.Private = *e.Private
	}
	if e.IPRanges != nil {
		w.Access.IPRanges = *e.IPRanges
	}
	if e.PasswordHash != nil {
		w.Access.PasswordHash = *e.PasswordHash
	}
	if e.RevokeAll {
		w.Access.Key = NewAccessKey()
	}
	if err := w.CheckSettings(); err != nil {
		return nil, nil, err
	}
	if err := tx.UpdateWorkspace(ctx, w); err != nil {
		return nil, nil, err
	}
	w.Access.HasPassword = w.Access.PasswordHash != ""
	return w, map[string]any{"private": w.Access.Private, "ip_ranges": w.Access.IPRanges, "password_changed": e.PasswordHash != nil,
		"revoke_all": e.RevokeAll}, nil
}
