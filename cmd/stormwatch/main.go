// Command stormwatch is the status page service that updates itself: one
// binary with a subcommand per role. main only wires: it reads settings,
// opens the store, builds the services and runs them until a signal.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/stormwatch/stormwatch/internal/config"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the control plane: pages, dashboard, APIs, rules, notifications", runServe},
		{"agent", "node agent: read traffic, detect attacks, report them to a server", runAgent},
		{"detect", "run the agent's detector on a capture and print the attack timeline (or check a labelled set)", runDetect},
		{"demo", "watch an attack become a public incident and resolve, on a throw-away database", runDemo},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"rules", "check an auto-publish rule file and explain a decision (rules check FILE)", runRules},
		{"workspace", "create and list workspaces (workspace create --slug S --name N)", runWorkspace},
		{"user", "print a dashboard setup or password reset link (user reset-link --email E)", runUser},
		{"version", "print version, commit and Go version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `stormwatch — a status page that updates itself when your network is attacked.

Usage: stormwatch <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every flag can also be set as STORMWATCH_<FLAG> in the environment or as a key
of the YAML file given by --config (flag > environment > file > default).
Run "stormwatch <command> --help" for a command's flags and examples.
`)
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, args[1:], env, stdout, stderr)
		var cfgErr *config.Error
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errRulesInvalid), errors.Is(err, errLabelsMissed):
			return exitFailed
		case errors.As(err, &cfgErr):
			fmt.Fprintf(stderr, "stormwatch %s: %v\n", c.name, err)
			return exitUsage
		default:
			fmt.Fprintf(stderr, "stormwatch %s: %v\n", c.name, err)
			return exitFailed
		}
	}
	fmt.Fprintf(stderr, "stormwatch: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// newFlags returns a flag set whose usage text teaches the command.
func newFlags(name, synopsis, about, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = config.Usage(fs, synopsis, about, examples)
	return fs
}
