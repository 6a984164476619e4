package main

import (
	"context"
	"fmt"
	"io"

	"github.com/stormwatch/stormwatch/internal/config"
)

func runMigrate(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "stormwatch migrate [flags]", `
Applies every database migration this binary carries that the database
lacks, then exits. serve does the same at start; run migrate first when
upgrading several replicas so that none starts on an old schema.`, `
  stormwatch migrate --data-dir /var/lib/stormwatch
  stormwatch migrate --database-url postgres://stormwatch@db:5432/stormwatch`, stderr)
	var db config.Database
	var logc config.Log
	db.Register(fs)
	logc.Register(fs)
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	st, _, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema at migration %d (%s)\n", v, st.Dialect())
	return nil
}
