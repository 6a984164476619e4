package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/store"
)

func runWorkspace(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprint(stderr, `Usage: stormwatch workspace create --slug S --name N [flags]
       stormwatch workspace list [flags]

Run "stormwatch workspace create --help" for details.
`)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return &config.Error{Msg: "workspace: name a subcommand, create or list"}
	}
	if args[0] == "list" {
		return workspaceList(ctx, args[1:], env, stdout, stderr)
	}
	fs := newFlags("workspace create", "stormwatch workspace create --slug S --name N [flags]", `
Creates a workspace (one public status page with its own components,
subscribers and keys) and prints its first API key, with the owner role,
alone on stdout, so that scripts can capture it:

  KEY=$(stormwatch workspace create --slug acme --name "Acme Games")

The key is shown only this once; stormwatch keeps only its hash.`, `
  stormwatch workspace create --slug acme --name "Acme Games"
  stormwatch workspace create --slug acme --name "Acme" --database-url postgres://stormwatch@db/stormwatch`, stderr)
	var db config.Database
	var logc config.Log
	db.Register(fs)
	logc.Register(fs)
	slug := fs.String("slug", "", "URL `slug` of the page: lower-case letters, digits, hyphens (required)")
	name := fs.String("name", "", "display `name` of the workspace (required)")
	timezone := fs.String("timezone", "UTC", "IANA time `zone` in which the page shows times")
	if err := config.Parse(fs, args[1:], env); err != nil {
		return err
	}
	if err := sw.CheckSlug("slug", *slug); err != nil {
		return &config.Error{Msg: "--" + err.Error()}
	}
	if err := sw.CheckText("name", *name, sw.MaxNameLen, true); err != nil {
		return &config.Error{Msg: "--" + err.Error()}
	}
	st, _, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	var token string
	err = st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: *slug, Name: *name, Timezone: *timezone}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		key, tok, err := tx.CreateAPIKey(ctx, w.ID, "first admin key", sw.RoleOwner)
		if err != nil {
			return err
		}
		token = tok
		return tx.Audit(ctx, w.ID, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorSystem, ID: "cli", Name: "stormwatch workspace create"},
			Action: "workspace.create", TargetType: "workspace", TargetID: w.ID,
			Details: []byte(fmt.Sprintf(`{"slug":%q,"first_key":%q}`, w.Slug, key.ID))})
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func workspaceList(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("workspace list", "stormwatch workspace list [flags]", `
Lists every workspace of the installation: id, slug, name, page revision.`, `
  stormwatch workspace list --data-dir /var/lib/stormwatch`, stderr)
	var db config.Database
	db.Register(fs)
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	logc := config.Log{Level: "warn", Format: "text"}
	st, _, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Workspaces(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSLUG\tNAME\tREVISION")
	for _, w := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", w.ID, w.Slug, w.Name, w.Revision)
	}
	return tw.Flush()
}
