package store

import (
	"context"
	"fmt"
)

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query and scans every row with scan. The rows are closed
// before it returns, so that the caller may query again in the same
// transaction (which holds one connection).
func queryAll[T any](ctx context.Context, db dbtx, scan func(rowScanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// queryPage is queryAll for a listing fetched with Limit+1 rows: it
// returns the page and whether more rows follow.
func queryPage[T any](ctx context.Context, db dbtx, p Page, scan func(rowScanner) (*T, error), query string, args ...any) ([]T, bool, error) {
	out, err := queryAll(ctx, db, scan, query, args...)
	if err != nil {
		return nil, false, err
	}
	out, more := trim(out, p)
	return out, more, nil
}

// fillSlugs sets, on each item, the slugs of the components linked to it
// through table (whose column col holds the item's id), in page order.
func fillSlugs[T any](ctx context.Context, r *Reader, ws, table, col string, items []T, id func(*T) string, set func(*T, string)) error {
	if len(items) == 0 {
		return nil
	}
	idx := map[string]*T{}
	args := []any{ws}
	for i := range items {
		idx[id(&items[i])] = &items[i]
		args = append(args, id(&items[i]))
	}
	rows, err := r.db.QueryContext(ctx, `SELECT l.`+col+`, c.slug FROM `+table+` l
		JOIN components c ON c.id = l.component_id AND c.workspace_id = $1
		WHERE l.`+col+` IN (`+placeholders(2, len(items))+`) ORDER BY c.position, c.created_at, c.id`, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner, slug string
		if err := rows.Scan(&owner, &slug); err != nil {
			return err
		}
		set(idx[owner], slug)
	}
	return rows.Err()
}
