package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/dashboard"
	"github.com/stormwatch/stormwatch/internal/store"
)

// runUser prints one-time links for dashboard accounts, for operators
// who have the server's database but no mail: the first-run setup link
// again, or a password reset link.
func runUser(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "setup-link" && args[0] != "reset-link") {
		fmt.Fprint(stderr, `Usage: stormwatch user setup-link [flags]
       stormwatch user reset-link --email ADDRESS [flags]

Run "stormwatch user reset-link --help" for details.
`)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return &config.Error{Msg: "user: name a subcommand, setup-link or reset-link"}
	}
	sub := args[0]
	fs := newFlags("user "+sub, "stormwatch user "+sub+" [flags]", `
setup-link prints a fresh first-run setup link while nobody has a
dashboard account (serve prints one at every start, too).

reset-link prints a password reset link for the account with --email,
valid once for an hour: for installations without --smtp-url, where the
dashboard cannot mail it. Whoever opens it can set the password: hand it
over privately.

Links are built on --base-url, which should be the server's.`, `
  stormwatch user setup-link --base-url https://status.example.com
  stormwatch user reset-link --email ops@example.com --base-url https://status.example.com`, stderr)
	var db config.Database
	db.Register(fs)
	baseURL := fs.String("base-url", "http://127.0.0.1:8080", "externally visible `URL` of the server, for the link")
	email := fs.String("email", "", "e-mail `address` of the account (reset-link)")
	if err := config.Parse(fs, args[1:], env); err != nil {
		return err
	}
	if sub == "reset-link" && *email == "" {
		return &config.Error{Msg: "--email: name the account whose password to reset"}
	}
	logc := config.Log{Level: "warn", Format: "text"}
	st, _, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	var link string
	if sub == "setup-link" {
		link, err = dashboard.SetupLink(ctx, st, *baseURL)
		if err == nil && link == "" {
			return errors.New("setup is done: accounts exist; sign in, or use reset-link")
		}
	} else {
		link, err = dashboard.ResetLink(ctx, st, *baseURL, *email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no account has the e-mail address %s", *email)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}
