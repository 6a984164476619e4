package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/store"
)

// openStore opens the database the settings name and applies pending
// migrations, so that every command works on a current schema.
func openStore(ctx context.Context, db config.Database, log *slog.Logger) (*store.Store, error) {
	var st *store.Store
	var err error
	if db.DatabaseURL != "" {
		st, err = store.OpenPostgres(db.DatabaseURL, store.WithMaxConns(db.MaxConns))
	} else {
		st, err = store.OpenSQLite(db.SQLitePath())
	}
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "versions", fmt.Sprint(applied), "database", string(st.Dialect()))
	}
	return st, nil
}

// openConfigured validates the database and log settings, then opens the
// store: the start of every command that touches the database.
func openConfigured(ctx context.Context, db *config.Database, logc *config.Log) (*store.Store, *slog.Logger, error) {
	if err := db.Validate(); err != nil {
		return nil, nil, err
	}
	if err := logc.Validate(); err != nil {
		return nil, nil, err
	}
	log := logc.Logger(os.Stderr)
	st, err := openStore(ctx, *db, log)
	return st, log, err
}
