package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
)

// Kinds of one-time links.
const (
	LinkSetup  = "setup"
	LinkReset  = "reset"
	LinkInvite = "invite"
)

// Session lifetimes: a session ends after a week unused, and after 30
// days whatever happens.
const (
	SessionIdle     = 7 * 24 * time.Hour
	SessionLifetime = 30 * 24 * time.Hour
)

// ErrLastOwner refuses a change that would leave a workspace without an
// owner.
var ErrLastOwner = errors.New("a workspace needs at least one owner")

// Account is a user with what sign-in needs.
type Account struct {
	sw.User
	PasswordHash string
}

// Session is a signed-in browser.
type Session struct {
	Hash       string
	User       sw.User
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// Member is a user's place in a workspace.
type Member struct {
	sw.User
	Role  sw.Role
	Since time.Time
}

// WorkspaceRole is a workspace a user belongs to, with the user's role.
type WorkspaceRole struct {
	sw.Workspace
	Role sw.Role
}

// Link is a one-time link's record (never its secret).
type Link struct {
	Hash        string
	Kind        string
	UserID      string
	WorkspaceID string
	Email       string
	Role        sw.Role
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

const userColumns = `id, email, name, operator, created_at`

func scanUser(row rowScanner) (*sw.User, error) {
	var u sw.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Operator, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromTS(created)
	return &u, nil
}

// normalEmail is how addresses are compared: case does not tell people
// apart.
func normalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// UserCount says how many users there are; none means first-run setup.
func (r *Reader) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// AccountByEmail returns the account with address email.
func (r *Reader) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	var a Account
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, normalEmail(email)).
		Scan(&a.ID, &a.Email, &a.Name, &a.Operator, &created, &a.PasswordHash)
	if err != nil {
		return nil, notFound(err, "user", email)
	}
	a.CreatedAt = fromTS(created)
	return &a, nil
}

// User returns user id.
func (r *Reader) User(ctx context.Context, id string) (*sw.User, error) {
	u, err := scanUser(r.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

// CreateUser adds a person with a password hash made by the caller.
func (tx *Tx) CreateUser(ctx context.Context, u *sw.User, passwordHash string) error {
	email, err := sw.CheckEmail("email", strings.TrimSpace(u.Email))
	if err != nil {
		return err
	}
	u.Email = email
	if err := sw.CheckText("name", u.Name, sw.MaxNameLen, false); err != nil {
		return err
	}
	u.ID, u.CreatedAt = sw.NewID(sw.PrefixUser), tx.now
	_, err = tx.db.ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, operator, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, u.ID, u.Email, u.Name, passwordHash, u.Operator, ts(tx.now))
	if isUniqueViolation(err) {
		return fmt.Errorf("a user with e-mail %s exists: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// SetPassword replaces user id's password hash and ends every session of
// the user but keep (which may be empty).
func (tx *Tx) SetPassword(ctx context.Context, id, passwordHash, keep string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, id, passwordHash, ts(tx.now))
	if err := affectedOne(res, err, "user", id); err != nil {
		return err
	}
	_, err = tx.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND hash <> $2`, id, keep)
	return err
}

// RehashPassword stores a new hash of the same password (stronger
// parameters), leaving sessions alone.
func (tx *Tx) RehashPassword(ctx context.Context, id, passwordHash string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
	return affectedOne(res, err, "user", id)
}

// UpdateUserName renames user id.
func (tx *Tx) UpdateUserName(ctx context.Context, id, name string) error {
	if err := sw.CheckText("name", name, sw.MaxNameLen, false); err != nil {
		return err
	}
	res, err := tx.db.ExecContext(ctx, `UPDATE users SET name = $2 WHERE id = $1`, id, name)
	return affectedOne(res, err, "user", id)
}

// CreateSession signs user id in and returns the cookie's secret.
func (tx *Tx) CreateSession(ctx context.Context, userID, userAgent string) (string, error) {
	token := secret.New(secret.KindSession)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, last_seen_at, expires_at, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5)`, secret.Hash(token), userID, ts(tx.now), ts(tx.now.Add(SessionIdle)), userAgent)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	// Expired sessions of anyone go with the new one: no sweeper needed.
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, ts(tx.now)); err != nil {
		return "", fmt.Errorf("expire sessions: %w", err)
	}
	return token, nil
}

// SessionByToken returns the live session whose secret is token.
func (r *Reader) SessionByToken(ctx context.Context, token string, now time.Time) (*Session, error) {
	if !secret.HasKind(token, secret.KindSession) {
		return nil, fmt.Errorf("session: %w", ErrNotFound)
	}
	var s Session
	var created, seen, expires, ucreated int64
	err := r.db.QueryRowContext(ctx, `SELECT s.hash, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.email, u.name, u.operator, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1 AND s.expires_at > $2`, secret.Hash(token), ts(now)).
		Scan(&s.Hash, &created, &seen, &expires, &s.User.ID, &s.User.Email, &s.User.Name, &s.User.Operator, &ucreated)
	if err != nil {
		return nil, notFound(err, "session", secret.Prefix(token))
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.User.CreatedAt = fromTS(created), fromTS(seen), fromTS(expires), fromTS(ucreated)
	return &s, nil
}

// TouchSession extends a session that is in use, within its lifetime.
func (tx *Tx) TouchSession(ctx context.Context, s *Session) error {
	expires := tx.now.Add(SessionIdle)
	if end := s.CreatedAt.Add(SessionLifetime); end.Before(expires) {
		expires = end
	}
	_, err := tx.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE hash = $1`, s.Hash, ts(tx.now), ts(expires))
	return err
}

// DeleteSession signs a browser out.
func (tx *Tx) DeleteSession(ctx context.Context, hash string) error {
	_, err := tx.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// CreateLink makes a one-time link of kind valid for ttl and returns its
// secret. l names who or what it is for.
func (tx *Tx) CreateLink(ctx context.Context, l *Link, ttl time.Duration) (string, error) {
	token := secret.New(secret.KindLink)
	l.Hash, l.CreatedAt, l.ExpiresAt, l.Email = secret.Hash(token), tx.now, tx.now.Add(ttl), normalEmail(l.Email)
	_, err := tx.db.ExecContext(ctx, `INSERT INTO user_tokens (hash, kind, user_id, workspace_id, email, role, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, l.Hash, l.Kind, nullString(l.UserID), nullString(l.WorkspaceID),
		l.Email, string(l.Role), l.CreatedBy, ts(tx.now), ts(l.ExpiresAt))
	if err != nil {
		return "", fmt.Errorf("create %s link: %w", l.Kind, err)
	}
	if _, err := tx.db.ExecContext(ctx, `DELETE FROM user_tokens WHERE expires_at < $1`, ts(tx.now.Add(-24*time.Hour))); err != nil {
		return "", fmt.Errorf("expire links: %w", err)
	}
	return token, nil
}

// LinksSince counts the links of kind made for email since then, used
// or not: how many reset mails an address was sent lately, on every
// replica.
func (tx *Tx) LinksSince(ctx context.Context, kind, email string, since time.Time) (int, error) {
	var n int
	err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_tokens WHERE kind = $1 AND email = $2 AND created_at >= $3`,
		kind, normalEmail(email), ts(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s links: %w", kind, err)
	}
	return n, nil
}

const linkColumns = `hash, kind, user_id, workspace_id, email, role, created_by, created_at, expires_at`

func scanLink(row rowScanner) (*Link, error) {
	var l Link
	var user, ws sql.NullString
	var created, expires int64
	if err := row.Scan(&l.Hash, &l.Kind, &user, &ws, &l.Email, &l.Role, &l.CreatedBy, &created, &expires); err != nil {
		return nil, err
	}
	l.UserID, l.WorkspaceID, l.CreatedAt, l.ExpiresAt = user.String, ws.String, fromTS(created), fromTS(expires)
	return &l, nil
}

// LinkByToken returns the unused, unexpired link of kind whose secret is
// token.
func (r *Reader) LinkByToken(ctx context.Context, kind, token string, now time.Time) (*Link, error) {
	if !secret.HasKind(token, secret.KindLink) {
		return nil, fmt.Errorf("%s link: %w", kind, ErrNotFound)
	}
	l, err := scanLink(r.db.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM user_tokens
		WHERE hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3`, secret.Hash(token), kind, ts(now)))
	if err != nil {
		return nil, notFound(err, kind+" link", secret.Prefix(token))
	}
	return l, nil
}

// UseLink spends a one-time link; a second use (a race, a replay) is
// ErrNotFound, so only one of two concurrent uses goes on.
func (tx *Tx) UseLink(ctx context.Context, hash string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE user_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2`, hash, ts(tx.now))
	return affectedOne(res, err, "link", hash[:12])
}

// Invitations lists workspace ws's pending invitations, newest first.
func (r *Reader) Invitations(ctx context.Context, ws string, now time.Time) ([]Link, error) {
	return queryAll(ctx, r.db, scanLink, `SELECT `+linkColumns+` FROM user_tokens
		WHERE workspace_id = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 ORDER BY created_at DESC`, ws, LinkInvite, ts(now))
}

// RevokeInvitation withdraws workspace ws's pending invitation hash.
func (tx *Tx) RevokeInvitation(ctx context.Context, ws, hash string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM user_tokens WHERE workspace_id = $1 AND hash = $2 AND kind = $3 AND used_at IS NULL`, ws, hash, LinkInvite)
	return affectedOne(res, err, "invitation", hash)
}

// AddMember gives user a role in workspace ws, or changes the role of a
// member already there.
func (tx *Tx) AddMember(ctx context.Context, ws, user string, role sw.Role) error {
	if !role.Valid() {
		return sw.Invalid("role", "must be one of owner, admin, editor, viewer")
	}
	var n int
	err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND user_id = $2`, ws, user).Scan(&n)
	if err != nil {
		return fmt.Errorf("find membership: %w", err)
	}
	if n > 0 {
		return tx.SetMemberRole(ctx, ws, user, role)
	}
	_, err = tx.db.ExecContext(ctx, `INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)`,
		ws, user, string(role), ts(tx.now))
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

// SetMemberRole changes a member's role; the last owner stays one.
func (tx *Tx) SetMemberRole(ctx context.Context, ws, user string, role sw.Role) error {
	if !role.Valid() {
		return sw.Invalid("role", "must be one of owner, admin, editor, viewer")
	}
	if role != sw.RoleOwner {
		if err := tx.keepAnOwner(ctx, ws, user); err != nil {
			return err
		}
	}
	res, err := tx.db.ExecContext(ctx, `UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2`, ws, user, string(role))
	return affectedOne(res, err, "member", user)
}

// RemoveMember takes user out of workspace ws; the last owner stays.
func (tx *Tx) RemoveMember(ctx context.Context, ws, user string) error {
	if err := tx.keepAnOwner(ctx, ws, user); err != nil {
		return err
	}
	res, err := tx.db.ExecContext(ctx, `DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2`, ws, user)
	return affectedOne(res, err, "member", user)
}

// keepAnOwner refuses to demote or remove user if no other owner is left.
func (tx *Tx) keepAnOwner(ctx context.Context, ws, user string) error {
	var others int
	err := tx.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = $2 AND user_id <> $3`,
		ws, string(sw.RoleOwner), user).Scan(&others)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	var role string
	err = tx.db.QueryRowContext(ctx, `SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2`, ws, user).Scan(&role)
	if err != nil {
		return notFound(err, "member", user)
	}
	if role == string(sw.RoleOwner) && others == 0 {
		return ErrLastOwner
	}
	return nil
}

// Role returns user's role in workspace ws; ErrNotFound if not a member.
func (r *Reader) Role(ctx context.Context, ws, user string) (sw.Role, error) {
	var role string
	err := r.db.QueryRowContext(ctx, `SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2`, ws, user).Scan(&role)
	if err != nil {
		return "", notFound(err, "membership", user)
	}
	return sw.Role(role), nil
}

// Members lists workspace ws's people, owners first.
func (r *Reader) Members(ctx context.Context, ws string) ([]Member, error) {
	return queryAll(ctx, r.db, func(row rowScanner) (*Member, error) {
		var m Member
		var created, since int64
		if err := row.Scan(&m.ID, &m.Email, &m.Name, &m.Operator, &created, &m.Role, &since); err != nil {
			return nil, err
		}
		m.CreatedAt, m.Since = fromTS(created), fromTS(since)
		return &m, nil
	}, `SELECT u.id, u.email, u.name, u.operator, u.created_at, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1
		ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'editor' THEN 2 ELSE 3 END, u.email`, ws)
}

// UserWorkspaces lists the workspaces user belongs to, by name.
func (r *Reader) UserWorkspaces(ctx context.Context, user string) ([]WorkspaceRole, error) {
	return queryAll(ctx, r.db, func(row rowScanner) (*WorkspaceRole, error) {
		var role string
		var dest []any
		w := WorkspaceRole{}
		// scanWorkspace reads a row of workspaceColumns; the role follows.
		ws, err := scanWorkspace(rowFunc(func(d ...any) error {
			dest = append(d, &role)
			return row.Scan(dest...)
		}))
		if err != nil {
			return nil, err
		}
		w.Workspace, w.Role = *ws, sw.Role(role)
		return &w, nil
	}, `SELECT `+prefixed("w.", workspaceColumns)+`, m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
		WHERE m.user_id = $1 ORDER BY w.name, w.id`, user)
}

// rowFunc adapts a function to rowScanner, so a scan helper can read the
// first columns of a longer row.
type rowFunc func(dest ...any) error

func (f rowFunc) Scan(dest ...any) error { return f(dest...) }

// prefixed qualifies every column of a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// RecordLoginFailure counts a failed sign-in for address email.
func (tx *Tx) RecordLoginFailure(ctx context.Context, email string) error {
	_, err := tx.db.ExecContext(ctx, `INSERT INTO login_failures (email, at) VALUES ($1, $2)`, normalEmail(email), ts(tx.now))
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	_, err = tx.db.ExecContext(ctx, `DELETE FROM login_failures WHERE at < $1`, ts(tx.now.Add(-24*time.Hour)))
	return err
}

// LoginFailures counts failed sign-ins for email since a time.
func (r *Reader) LoginFailures(ctx context.Context, email string, since time.Time) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $2`, normalEmail(email), ts(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// ClearLoginFailures forgets email's failures after a good sign-in.
func (tx *Tx) ClearLoginFailures(ctx context.Context, email string) error {
	_, err := tx.db.ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1`, normalEmail(email))
	return err
}

// WorkspaceAdmins lists the e-mail addresses of workspace ws's owners and
// admins, who hear about problems with its notifications.
func (r *Reader) WorkspaceAdmins(ctx context.Context, ws string) ([]string, error) {
	out, err := queryAll(ctx, r.db, scanString, `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = $1 AND m.role IN ('owner', 'admin') ORDER BY u.email`, ws)
	if err != nil {
		return nil, fmt.Errorf("list workspace admins: %w", err)
	}
	return out, nil
}

// scanString reads a one-column row of text.
func scanString(row rowScanner) (*string, error) {
	var s string
	return &s, row.Scan(&s)
}
