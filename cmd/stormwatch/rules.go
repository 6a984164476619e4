package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/rules"
)

// errRulesInvalid makes "rules check" exit 1 after printing the problems.
var errRulesInvalid = errors.New("rule file has errors")

func runRules(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, "Usage: stormwatch rules check FILE [sample attack flags]\n\nRun \"stormwatch rules check --help\" for details.\n")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return &config.Error{Msg: "rules: name a subcommand: check"}
	}
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = config.Usage(fs, "stormwatch rules check FILE [flags]", `
Validates an auto-publish rule file. Problems are printed as
FILE:LINE:COL: message, one per line, and the command exits 1. With a
sample attack (any of the flags below) it also explains what the rules
decide for it: publish or not, when, with which component status and
impact, and which lines made that decision. With --replay DAYS it judges
every attack recorded in that many past days and lists what would have
been published, before the rules are switched on.`, `
  stormwatch rules check rules.txt
  stormwatch rules check rules.txt --severity medium --attack dns_amplification --bps 3G --duration 90s --component us-east-game-01
  stormwatch rules check rules.txt --replay 30 --workspace acme --data-dir /var/lib/stormwatch`)
	severity := fs.String("severity", "", "sample attack `severity`: low, medium, high or critical")
	attack := fs.String("attack", "", "sample attack's main `vector`, e.g. syn_flood or dns_amplification")
	var bps, pps config.Rate
	fs.Var(&bps, "bps", "sample attack's peak `bits/s`, e.g. 10G")
	fs.Var(&pps, "pps", "sample attack's peak `packets/s`, e.g. 2M")
	duration := fs.Duration("duration", 0, "how long the sample attack has lasted")
	component := fs.String("component", "", "`slug` of the component to decide for")
	node := fs.String("node", "", "`name` of the reporting node")
	maint := fs.Bool("during-maintenance", false, "the component is under maintenance")
	locations := fs.Int("locations", 1, "for a failing check (--attack monitor_down): how many locations agree it is down")
	check := fs.String("check", "", "for a failing check: its `name`")
	replay := fs.Int("replay", 0, "also judge the attacks recorded in the past `days` (with --workspace and the database flags)")
	workspace := fs.String("workspace", "", "`slug` of the workspace whose attacks --replay judges")
	var db config.Database
	db.Register(fs)
	// The file comes first; flags follow it.
	if len(args) < 2 || args[1] == "" || args[1][0] == '-' {
		if len(args) >= 2 && (args[1] == "--help" || args[1] == "-h") {
			fs.Usage()
			return nil
		}
		return &config.Error{Msg: "rules check: name the rule FILE"}
	}
	file := args[1]
	if err := fs.Parse(args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &config.Error{Msg: err.Error()}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	set, err := rules.Parse(string(text))
	var list rules.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintf(stderr, "%s:%d:%d: %s\n", file, e.Line, e.Col, e.Msg)
		}
		return errRulesInvalid
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rules, valid\n", file, len(set.Rules))
	if *replay > 0 {
		return replayRules(ctx, set, db, *workspace, *replay, stdout)
	}
	sample := false
	fs.Visit(func(f *flag.Flag) {
		sample = sample || f.Name != "data-dir" && f.Name != "database-url" && f.Name != "workspace"
	})
	if !sample {
		return nil
	}
	f := rules.Facts{Severity: sw.Severity(*severity), Duration: *duration, Classification: *attack, BPS: uint64(bps), PPS: uint64(pps),
		Node: *node, Component: *component, DuringMaintenance: *maint, Locations: *locations, Check: *check}
	if *attack != "" {
		f.Vectors = []string{*attack}
	}
	if f.Severity == "" {
		f.Severity = sw.SeverityLow
	}
	if !f.Severity.Valid() {
		return &config.Error{Msg: "severity: use low, medium, high or critical"}
	}
	fmt.Fprintln(stdout, rules.Explain(rules.Evaluate(set, f)))
	fmt.Fprintln(stdout, "how rules combine: "+rules.Precedence)
	return nil
}

// replayRules prints what set would have decided for the attacks of the
// past days.
func replayRules(ctx context.Context, set *rules.Set, db config.Database, slug string, days int, stdout io.Writer) error {
	if slug == "" {
		return &config.Error{Msg: "replay: name the workspace with --workspace SLUG"}
	}
	if days > 90 {
		return &config.Error{Msg: "replay: at most 90 days"}
	}
	logc := config.Log{Level: "warn", Format: "text"}
	st, _, err := openConfigured(ctx, &db, &logc)
	if err != nil {
		return err
	}
	defer st.Close()
	w, err := st.WorkspaceBySlug(ctx, slug)
	if err != nil {
		return err
	}
	verdicts, err := incident.Replay(ctx, st, w.ID, set, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	public := 0
	for _, v := range verdicts {
		shown := "not shown"
		if v.Public {
			shown, public = "public", public+1
		}
		rule := "no rule"
		if d := v.Decision.Decided; d != nil {
			rule = fmt.Sprintf("line %d", d.Line)
		}
		fmt.Fprintf(stdout, "%s  %-8s %s\n    -> %s (%s) on %v: %s\n", v.Attack.StartedAt.Format("2006-01-02 15:04"), v.Attack.Severity,
			v.Attack.Title, v.Decision.Publish, rule, v.Components, shown)
	}
	fmt.Fprintf(stdout, "%d of %d attacks in the past %d days would have been public\n", public, len(verdicts), days)
	return nil
}
