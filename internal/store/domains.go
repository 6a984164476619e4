package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Domain is a hostname that serves a workspace's public page.
type Domain struct {
	ID          string
	WorkspaceID string
	Hostname    string
	Verified    bool
	// VerifiedBy says how: "cname" or "txt".
	VerifiedBy string
	VerifiedAt *time.Time
	// CheckedAt and CheckError are the last DNS check and what it found
	// wrong ("" once verified).
	CheckedAt  *time.Time
	CheckError string
	CreatedAt  time.Time
}

const domainColumns = `id, workspace_id, hostname, created_at, verified_at, verified_by, checked_at, check_error`

func scanDomain(row rowScanner) (*Domain, error) {
	var d Domain
	var created int64
	var verified, checked sql.NullInt64
	if err := row.Scan(&d.ID, &d.WorkspaceID, &d.Hostname, &created, &verified, &d.VerifiedBy, &checked, &d.CheckError); err != nil {
		return nil, err
	}
	d.CreatedAt, d.VerifiedAt, d.CheckedAt, d.Verified = fromTS(created), fromNullTS(verified), fromNullTS(checked), verified.Valid
	return &d, nil
}

// Domain returns workspace ws's domain id.
func (r *Reader) Domain(ctx context.Context, ws, id string) (*Domain, error) {
	d, err := scanDomain(r.db.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return nil, notFound(err, "domain", id)
	}
	return d, nil
}

// DomainGrace is how long a verified domain may fail its checks (its
// DNS moved away, or a long outage) before it is no longer served.
const DomainGrace = 72 * time.Hour

// DomainsToCheck lists domains of every workspace due for a DNS check:
// unverified ones not checked since pendingBefore, verified ones not
// checked since verifiedBefore; least recently checked first.
func (r *Reader) DomainsToCheck(ctx context.Context, pendingBefore, verifiedBefore time.Time, limit int) ([]Domain, error) {
	return queryAll(ctx, r.db, scanDomain, `SELECT `+domainColumns+` FROM domains
		WHERE (verified_at IS NULL AND (checked_at IS NULL OR checked_at < $1))
		   OR (verified_at IS NOT NULL AND (checked_at IS NULL OR checked_at < $2))
		ORDER BY COALESCE(checked_at, 0), id LIMIT $3`, ts(pendingBefore), ts(verifiedBefore), limit)
}

// RecordDomainCheck stores the outcome of a DNS check of workspace ws's
// domain id: verifiedBy non-empty verifies it (the page is served there
// from now on), else problem says what is missing. A verified domain that
// fails keeps being served through DomainGrace of failures (a DNS blip
// must not take a page down), then stops: RecordDomainCheck reports that
// it was unverified, tells the workspace's admins and audits it.
func (tx *Tx) RecordDomainCheck(ctx context.Context, ws, id, verifiedBy, problem string) (unverified bool, err error) {
	d, err := scanDomain(tx.db.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE workspace_id = $1 AND id = $2`, ws, id))
	if err != nil {
		return false, notFound(err, "domain", id)
	}
	var failingSince sql.NullInt64
	if err := tx.db.QueryRowContext(ctx, `SELECT failing_since FROM domains WHERE id = $1`, id).Scan(&failingSince); err != nil {
		return false, err
	}
	switch {
	case verifiedBy != "":
		_, err = tx.db.ExecContext(ctx, `UPDATE domains SET checked_at = $2, check_error = '', verified_by = $3,
			verified_at = COALESCE(verified_at, $2), failing_since = NULL WHERE id = $1`, id, ts(tx.now), verifiedBy)
		if err == nil && !d.Verified {
			tx.pageChanged(ws)
		}
		return false, err
	case !d.Verified:
		_, err = tx.db.ExecContext(ctx, `UPDATE domains SET checked_at = $2, check_error = $3 WHERE id = $1`, id, ts(tx.now), problem)
		return false, err
	case failingSince.Valid && tx.now.Sub(fromTS(failingSince.Int64)) >= DomainGrace:
		_, err = tx.db.ExecContext(ctx, `UPDATE domains SET checked_at = $2, check_error = $3, verified_at = NULL, verified_by = '',
			failing_since = NULL WHERE id = $1`, id, ts(tx.now), problem)
		if err != nil {
			return false, err
		}
		tx.pageChanged(ws)
		details, _ := json.Marshal(map[string]string{"hostname": d.Hostname, "problem": problem})
		if err := tx.Audit(ctx, ws, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorSystem, ID: "domains", Name: "domain checks"},
			Action: "domain.unverified", TargetType: "domain", TargetID: id, Details: details}); err != nil {
			return false, err
		}
		return true, tx.addNotice(ctx, ws, "domain.unverified", d.Hostname+" is no longer served",
			"The custom domain "+d.Hostname+" has failed its DNS check for "+DomainGrace.String()+" ("+problem+
				"), so stormwatch stopped serving the status page there. Point it here again, then check it on the Custom domain page.")
	default:
		_, err = tx.db.ExecContext(ctx, `UPDATE domains SET checked_at = $2, check_error = $3, failing_since = COALESCE(failing_since, $2)
			WHERE id = $1`, id, ts(tx.now), problem)
		return false, err
	}
}

// CreateDomain attaches hostname to workspace ws, unverified.
func (tx *Tx) CreateDomain(ctx context.Context, ws, hostname string) (*Domain, error) {
	d := &Domain{ID: sw.NewID("dom_"), WorkspaceID: ws, Hostname: strings.ToLower(strings.TrimSuffix(hostname, ".")), CreatedAt: tx.now}
	if err := sw.CheckHostname("hostname", d.Hostname); err != nil {
		return nil, err
	}
	_, err := tx.db.ExecContext(ctx, `INSERT INTO domains (id, workspace_id, hostname, created_at) VALUES ($1, $2, $3, $4)`,
		d.ID, ws, d.Hostname, ts(tx.now))
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("domain %s is already in use: %w", d.Hostname, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("create domain: %w", err)
	}
	return d, nil
}

// MarkDomainVerified records that workspace ws proved it controls domain id.
func (tx *Tx) MarkDomainVerified(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `UPDATE domains SET verified_at = $3 WHERE workspace_id = $1 AND id = $2`, ws, id, ts(tx.now))
	if err := affectedOne(res, err, "domain", id); err != nil {
		return err
	}
	tx.pageChanged(ws)
	return nil
}

// DeleteDomain detaches a domain; it stops serving at once.
func (tx *Tx) DeleteDomain(ctx context.Context, ws, id string) error {
	res, err := tx.db.ExecContext(ctx, `DELETE FROM domains WHERE workspace_id = $1 AND id = $2`, ws, id)
	if err := affectedOne(res, err, "domain", id); err != nil {
		return err
	}
	tx.pageChanged(ws)
	return nil
}

// Domains lists workspace ws's domains, by name.
func (r *Reader) Domains(ctx context.Context, ws string) ([]Domain, error) {
	return queryAll(ctx, r.db, scanDomain, `SELECT `+domainColumns+` FROM domains WHERE workspace_id = $1 ORDER BY hostname`, ws)
}

// WorkspaceIDByDomain returns the workspace a verified hostname serves.
func (r *Reader) WorkspaceIDByDomain(ctx context.Context, hostname string) (string, error) {
	var ws string
	err := r.db.QueryRowContext(ctx, `SELECT workspace_id FROM domains WHERE hostname = $1 AND verified_at IS NOT NULL`,
		strings.ToLower(hostname)).Scan(&ws)
	if err != nil {
		return "", notFound(err, "domain", hostname)
	}
	return ws, nil
}

// Revisions returns every workspace's page revision, for the cheap poll
// that keeps replicas' page caches fresh when a notification was missed.
func (r *Reader) Revisions(ctx context.Context) (map[string]int64, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, revision FROM workspaces`)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, err
		}
		out[id] = rev
	}
	return out, rows.Err()
}

// VerifiedDomain returns the first verified custom domain of workspace ws
// ("" when it has none): mails link there.
func (r *Reader) VerifiedDomain(ctx context.Context, ws string) (string, error) {
	var host string
	err := r.db.QueryRowContext(ctx, `SELECT hostname FROM domains WHERE workspace_id = $1 AND verified_at IS NOT NULL
		ORDER BY verified_at, hostname LIMIT 1`, ws).Scan(&host)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return host, err
}
