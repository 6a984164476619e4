// Package store is stormwatch's persistence: one implementation over
// database/sql that runs on embedded SQLite (the default) and on PostgreSQL
// (for several replicas). All SQL lives here. Every query on workspace data
// filters on the workspace id, so that a caller's mistake cannot leak one
// tenant's rows to another.
//
// Reads are methods on Store and on Tx alike; writes happen only inside
// Store.Tx, which also bumps the page revision of every workspace whose
// public page the transaction changed, exactly once, before commit.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Errors callers check with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// dbtx is what both *sql.DB and *sql.Tx offer.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Reader holds the read queries, shared by Store, Tx and View.
type Reader struct {
	db dbtx
}

// Store is the database. It is safe for concurrent use.
type Store struct {
	Reader
	sqlDB    *sql.DB
	readDB   *sql.DB
	dialect  Dialect
	now      func() time.Time
	onCommit func(Revision)
	// onNotify may be set while transactions run (a second delivery
	// worker joining), hence atomic.
	onNotify atomic.Pointer[func()]
	// dsn is PostgreSQL's, for the connections that listen and lead.
	dsn      string
	maxConns int
}

// Revision reports that a workspace's public page changed.
type Revision struct {
	WorkspaceID string
	Revision    int64
}

// Option changes how a Store is opened.
type Option func(*Store)

// WithClock makes the store stamp rows with now() instead of the wall
// clock, for tests of time-dependent behaviour.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMaxConns bounds a PostgreSQL store's pool of connections (default
// 20); a replica also holds one to listen and one per leadership.
func WithMaxConns(n int) Option { return func(s *Store) { s.maxConns = n } }

// OpenSQLite opens (creating if needed) the SQLite database file at path,
// in WAL mode with foreign keys on and a busy timeout, so that concurrent
// writers wait instead of failing.
func OpenSQLite(path string, opts ...Option) (*Store, error) {
	dsn := "file:" + path +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// SQLite allows one writer; immediate transactions queue on the busy
	// timeout, so one connection writes and the others would only wait.
	db.SetMaxOpenConns(1)
	// Readers get their own pool of deferred (snapshot) transactions that
	// never take the write lock, and run beside the writer in WAL mode.
	readDSN := "file:" + path +
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)&_txlock=deferred"
	rdb, err := sql.Open("sqlite", readDSN)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(8)
	for _, d := range []*sql.DB{db, rdb} {
		d.SetConnMaxIdleTime(5 * time.Minute)
	}
	return newStore(db, rdb, SQLite, opts)
}

// OpenPostgres connects to the PostgreSQL server named by dsn.
func OpenPostgres(dsn string, opts ...Option) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Reads outside transactions (pages, listings) get a pool of their
	// own, so that a burst of writes (a fan-out, a fleet of agents) never
	// makes the public page wait for a connection.
	rdb, err := sql.Open("pgx", dsn)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	for _, d := range []*sql.DB{db, rdb} {
		d.SetConnMaxIdleTime(5 * time.Minute)
	}
	s, err := newStore(db, rdb, Postgres, opts)
	if err != nil {
		return nil, err
	}
	if s.maxConns <= 0 {
		s.maxConns = 20
	}
	writes, reads := max(s.maxConns*3/4, 1), max(s.maxConns/4, 1)
	db.SetMaxOpenConns(writes)
	db.SetMaxIdleConns(writes)
	rdb.SetMaxOpenConns(reads)
	rdb.SetMaxIdleConns(reads)
	s.dsn = dsn
	return s, nil
}

func newStore(db, readDB *sql.DB, d Dialect, opts []Option) (*Store, error) {
	s := &Store{Reader: Reader{db: readDB}, sqlDB: db, readDB: readDB, dialect: d, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s: %w", d, err)
	}
	return s, nil
}

// OnCommit registers f to be called after every committed transaction that
// changed a workspace's public page. It must be set before the store is
// used and must not block.
func (s *Store) OnCommit(f func(Revision)) { s.onCommit = f }

// OnNotify sets f to be called after every commit that wrote notification
// events or deliveries, so that the sender wakes without waiting for its
// poll. Call it before the store is used.
func (s *Store) OnNotify(f func()) { s.onNotify.Store(&f) }

// Dialect reports which database the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers (past connections a database
// restart left dead, see retryDead).
func (s *Store) Ping(ctx context.Context) error {
	return s.retryDead(ctx, func() error { return s.readDB.PingContext(ctx) })
}

// retryDead runs f again while it fails for a connection a database
// restart left dead: an error without the server's word (no
// *pgconn.PgError) on PostgreSQL. Each try discards one such connection;
// the pool holds at most maxConns of them, and a database that is really
// down fails every try.
func (s *Store) retryDead(ctx context.Context, f func() error) error {
	err := f()
	for range s.maxConns {
		var pgErr *pgconn.PgError
		if err == nil || s.dialect != Postgres || errors.As(err, &pgErr) || ctx.Err() != nil {
			return err
		}
		err = f()
	}
	return err
}

// Close closes the connection pools.
func (s *Store) Close() error {
	if s.readDB != s.sqlDB {
		s.readDB.Close()
	}
	return s.sqlDB.Close()
}

// View runs fn on one consistent snapshot of the database, without taking
// any write lock.
func (s *Store) View(ctx context.Context, fn func(r *Reader) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	var tx *sql.Tx
	err := s.retryDead(ctx, func() (err error) {
		tx, err = s.readDB.BeginTx(ctx, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	// A read-only transaction has nothing to commit; rollback ends it.
	defer func() { _ = tx.Rollback() }()
	return fn(&Reader{db: tx})
}

// Tx is one database transaction: reads see its writes, and writes become
// visible to others all at once on commit.
type Tx struct {
	Reader
	now      time.Time
	revised  []string
	dialect  Dialect
	notified bool
}

// Now is the time the transaction stamps on what it writes.
func (tx *Tx) Now() time.Time { return tx.now }

// pageChanged marks workspace ws's public page as changed by this
// transaction; its revision is bumped once, before commit.
func (tx *Tx) pageChanged(ws string) {
	if !slices.Contains(tx.revised, ws) {
		tx.revised = append(tx.revised, ws)
	}
}

// Tx runs fn in a transaction, committing if fn returns nil and rolling
// back otherwise. Nothing fn wrote is kept when it fails.
func (s *Store) Tx(ctx context.Context, fn func(*Tx) error) error {
	var sqlTx *sql.Tx
	err := s.retryDead(ctx, func() (err error) {
		sqlTx, err = s.sqlDB.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{Reader: Reader{db: sqlTx}, now: s.now().UTC().Truncate(time.Microsecond), dialect: s.dialect}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback() // the error from fn is what matters
		return err
	}
	revs := make([]Revision, 0, len(tx.revised))
	for _, ws := range tx.revised {
		var rev int64
		err := sqlTx.QueryRowContext(ctx,
			`UPDATE workspaces SET revision = revision + 1 WHERE id = $1 RETURNING revision`, ws).Scan(&rev)
		if err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("bump revision of %s: %w", ws, err)
		}
		revs = append(revs, Revision{WorkspaceID: ws, Revision: rev})
	}
	if s.dialect == Postgres {
		// Other replicas hear of the change when it commits (see Listen).
		for _, r := range revs {
			if err := notifyPeers(ctx, sqlTx, fmt.Sprintf("r %s %d", r.WorkspaceID, r.Revision)); err != nil {
				_ = sqlTx.Rollback()
				return err
			}
		}
		if tx.notified {
			if err := notifyPeers(ctx, sqlTx, "o"); err != nil {
				_ = sqlTx.Rollback()
				return err
			}
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.onCommit != nil {
		for _, r := range revs {
			s.onCommit(r)
		}
	}
	if f := s.onNotify.Load(); tx.notified && f != nil && *f != nil {
		(*f)()
	}
	return nil
}

// Page selects a slice of a listing.
type Page struct {
	Limit  int
	Offset int
}

// clamp applies the default and maximum page size.
func (p Page) clamp() Page {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > 200 {
		p.Limit = 200
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// trim cuts a result fetched with Limit+1 rows to the page and reports
// whether more rows follow.
func trim[T any](rows []T, p Page) ([]T, bool) {
	if len(rows) > p.Limit {
		return rows[:p.Limit], true
	}
	return rows, false
}

func ts(t time.Time) int64 { return t.UnixMicro() }

func fromTS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullTS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ts(*t), Valid: true}
}

func fromNullTS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromTS(v.Int64)
	return &t
}

// isUniqueViolation reports whether err is a unique or primary key
// constraint failure on either database.
func isUniqueViolation(err error) bool {
	var le *sqlite.Error
	if errors.As(err, &le) {
		return le.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// notFound turns sql.ErrNoRows into ErrNotFound, naming what was missing.
func notFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w", what, id, err)
}

// placeholders returns "$start, $start+1, ..." for n arguments.
func placeholders(start, n int) string {
	b := make([]byte, 0, n*4)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", start+i)
	}
	return string(b)
}
