package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// peerChannel is the PostgreSQL notification channel replicas share.
const peerChannel = "stormwatch"

// notifyPeers queues a notification delivered to every listening replica
// when the transaction commits (and never if it rolls back).
func notifyPeers(ctx context.Context, tx *sql.Tx, payload string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, peerChannel, payload); err != nil {
		return fmt.Errorf("notify replicas: %w", err)
	}
	return nil
}

// Listen delivers, until ctx ends, what other replicas commit: page
// revisions to onRevision and outbox writes to onOutbox, within
// milliseconds instead of a poll's interval. It reconnects after losing
// the database (a restart, a failover), with retry backing off to 5 s.
// On SQLite, where there is one process, it returns at once.
func (s *Store) Listen(ctx context.Context, onRevision func(Revision), onOutbox func(), log *slog.Logger) {
	if s.dialect != Postgres {
		return
	}
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, onRevision, onOutbox, func() { wait = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("replica notifications lost; reconnecting", "err", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, onRevision func(Revision), onOutbox func(), connected func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+peerChannel); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch f := strings.Fields(n.Payload); {
		case len(f) == 3 && f[0] == "r":
			if rev, err := strconv.ParseInt(f[2], 10, 64); err == nil && onRevision != nil {
				onRevision(Revision{WorkspaceID: f[1], Revision: rev})
			}
		case len(f) == 1 && f[0] == "o" && onOutbox != nil:
			onOutbox()
		}
	}
}

// Lead runs job while this process holds the named leadership, and keeps
// trying to take it while another process holds it: of all replicas on
// one database, one runs job at a time. Leadership is a PostgreSQL
// advisory lock on a connection of its own: when the leader dies, the
// server ends its session and frees the lock, and a follower takes over
// within about a second; when the leader loses the database, it stops
// job before anyone else can start it. On SQLite job just runs. Lead
// returns when ctx ends and job has returned.
func (s *Store) Lead(ctx context.Context, name string, job func(ctx context.Context), log *slog.Logger) {
	if s.dialect != Postgres {
		job(ctx)
		return
	}
	h := fnv.New64a()
	h.Write([]byte("stormwatch:" + name))
	key := int64(h.Sum64())
	for ctx.Err() == nil {
		led, err := s.leadOnce(ctx, name, key, job, log)
		if err != nil && ctx.Err() == nil {
			log.Warn("leadership", "job", name, "err", err)
		}
		if !led {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// leadOnce tries to take the lock once; it reports whether it led.
func (s *Store) leadOnce(ctx context.Context, name string, key int64, job func(ctx context.Context), log *slog.Logger) (bool, error) {
	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(connectCtx, s.dsn)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		return false, err
	}
	log.Info("leading", "job", name)
	jobCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(jobCtx)
	}()
	defer func() {
		stop()
		<-done
		log.Info("no longer leading", "job", name)
	}()
	// The lock lasts as long as its session: check the session is alive,
	// and step down at once when it is not.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-done:
			return true, nil
		case <-tick.C:
			pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil && ctx.Err() == nil {
				return true, fmt.Errorf("lost the database connection that holds leadership: %w", err)
			}
		}
	}
}
