package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// errLabelsMissed makes detect --labels exit 1 when a label was missed.
var errLabelsMissed = errors.New("labels missed")

func runDetect(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("detect", "stormwatch detect --pcap FILE --prefix CIDR [detection flags] | --labels FILE", `
Runs the agent's detector on a capture, without a server, and prints the
attack timeline the agent would report: when each attack started, its
phases, classification, severity, rates, and why (the limit its
attack-shaped traffic crossed, against which value). Check the defaults,
or your own settings, against your own captures before trusting
auto-publish.

With --labels FILE it replays a labelled set instead: FILE lists one
capture per line, "CAPTURE PREFIX EXPECTED" (a path relative to FILE, the
protected prefix, and what must be named first: a classification such as
syn_flood, a family such as amplification, or none), and the command
prints each verdict and a confusion table, exiting 1 when any label is
missed. Every detection flag of "stormwatch agent" applies.`, `
  stormwatch detect --pcap attack.pcap --prefix 203.0.113.0/24
  stormwatch detect --pcap attack.pcapng --prefix 203.0.113.7/32 --format json
  stormwatch detect --labels testdata/corpus/labels.txt
  stormwatch detect --labels mine/labels.txt --attack-pps 20k`, stderr)
	var af agentFlags
	af.register(fs)
	pcap := fs.String("pcap", "", "the pcap or pcapng `file` to run the detector on")
	labels := fs.String("labels", "", "a labels `file`: replay every capture it lists and check what is named")
	format := fs.String("format", "text", "output `format`: text or json")
	if err := config.Parse(fs, args, env); err != nil {
		return err
	}
	if (*pcap == "") == (*labels == "") {
		return &config.Error{Msg: "give --pcap FILE (with --prefix) or --labels FILE"}
	}
	if *format != "text" && *format != "json" {
		return &config.Error{Msg: fmt.Sprintf("format: %q: want text or json", *format)}
	}
	if *labels != "" {
		return detectLabels(ctx, &af, *labels, stdout)
	}
	settings, err := af.settings()
	if err != nil {
		return err
	}
	events, st, err := capture.DetectFile(ctx, *pcap, settings)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if events == nil {
			events = []detect.Event{}
		}
		return enc.Encode(events)
	}
	printTimeline(stdout, *pcap, st, events)
	return nil
}

// printTimeline writes a capture's attacks as a person reads them.
func printTimeline(w io.Writer, name string, st capture.Stats, events []detect.Event) {
	fmt.Fprintf(w, "%s: %d packets over %s (%d not IP)\n", name, st.Packets, st.Last.Sub(st.First).Round(time.Millisecond), st.Skipped)
	if len(events) == 0 {
		fmt.Fprintln(w, "no attack")
		return
	}
	seen := map[string]bool{}
	for _, e := range events {
		if !seen[e.AttackID] {
			seen[e.AttackID] = true
			fmt.Fprintf(w, "\nattack %s on %s: %s\n", e.AttackID, e.Target, e.Title)
		}
		fmt.Fprintf(w, "  +%-8s %-18s %-10s %-8s %9d pps %12s  %s\n", e.At.Sub(st.First).Round(100*time.Millisecond), e.Type, e.Phase,
			e.Severity, e.PPS, detect.FormatRate(0, e.BPS), e.Classification)
		if e.Type == detect.EventStarted {
			var vs []string
			for _, v := range e.Vectors {
				vs = append(vs, fmt.Sprintf("%s %d pps (%.2f)", v.Key(), v.PPS, v.Confidence))
			}
			fmt.Fprintf(w, "             why: %s; vectors: %s; %d sources\n", e.Reason, strings.Join(vs, ", "), e.Sources)
		}
	}
}

// detectLabels replays a labelled set and reports the verdicts.
func detectLabels(ctx context.Context, af *agentFlags, path string, stdout io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return &config.Error{Msg: fmt.Sprintf("labels: %v", err)}
	}
	list, err := detect.ParseLabels(string(raw))
	if err != nil {
		return &config.Error{Msg: fmt.Sprintf("labels: %s: %v", path, err)}
	}
	conf := detect.Confusion{}
	missed := 0
	for _, l := range list {
		af.prefixes = []string{l.Prefix.String()}
		settings, err := af.settings()
		if err != nil {
			return err
		}
		file := l.Capture
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(path), file)
		}
		events, _, err := capture.DetectFile(ctx, file, settings)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, l.Line, err)
		}
		got := detect.Named(events)
		verdict := "ok"
		if !detect.Matches(l.Expected, got) {
			verdict = "MISSED"
			missed++
		}
		title := ""
		for _, e := range events {
			if e.Type == detect.EventStarted {
				title = " — " + e.Title
				break
			}
		}
		fmt.Fprintf(stdout, "%-6s %-34s expected %-22s named %s%s\n", verdict, l.Capture, l.Expected, got, title)
		conf.Add(l.Expected, got)
	}
	fmt.Fprintf(stdout, "\n%s\n%d of %d named right\n", conf, len(list)-missed, len(list))
	if missed > 0 {
		return errLabelsMissed
	}
	return nil
}
