// Package config turns command-line flags, STORMWATCH_* environment
// variables and an optional YAML file into typed, validated settings.
//
// Precedence, highest first: a flag given on the command line, then its
// environment variable (STORMWATCH_ + the flag name in upper case with "-"
// as "_"), then the YAML file's key of the same name as the flag, then the
// flag's default. Every subcommand uses the same rule, so one file can hold
// the settings of several commands only if it names keys they all know:
// unknown keys are an error, as a misspelt key silently ignored is worse.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem with the configuration. Commands exit with status 2
// on it, after printing its one-line message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// EnvPrefix starts every environment variable that sets a flag.
const EnvPrefix = "STORMWATCH_"

// EnvName returns the environment variable that sets flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs and then fills every flag not given on the
// command line from the environment (looked up with getenv) and from the
// YAML file named by --config or STORMWATCH_CONFIG. It returns flag.ErrHelp
// when help was asked for, and an *Error naming the flag, variable or key
// at fault otherwise.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var file string
	if fs.Lookup("config") == nil {
		fs.StringVar(&file, "config", "", "YAML `file` of settings; keys are flag names (e.g. data-dir: /var/lib/stormwatch)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &Error{Msg: err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	if !given["config"] {
		if v := getenv(EnvName("config")); v != "" {
			file = v
		}
	} else {
		file = fs.Lookup("config").Value.String()
	}
	fromFile, err := readFile(file, fs)
	if err != nil {
		return err
	}

	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if firstErr != nil || given[f.Name] || f.Name == "config" {
			return
		}
		if v, ok := lookupEnv(getenv, EnvName(f.Name)); ok {
			for _, part := range splitList(f, v) {
				if err := fs.Set(f.Name, part); err != nil {
					firstErr = errorf("environment variable %s=%q: %v", EnvName(f.Name), v, err)
					return
				}
			}
			return
		}
		if vals, ok := fromFile[f.Name]; ok {
			for _, v := range vals {
				if err := fs.Set(f.Name, v); err != nil {
					firstErr = errorf("config file %s: key %q: %v", file, f.Name, err)
					return
				}
			}
		}
	})
	return firstErr
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// listFlag is implemented by repeatable flags; their environment variable
// takes a comma-separated list.
type listFlag interface{ IsList() bool }

func splitList(f *flag.Flag, v string) []string {
	if l, ok := f.Value.(listFlag); ok && l.IsList() {
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	return []string{v}
}

// readFile loads the YAML file into flag name -> values (several for a
// list), rejecting keys that are not flags of fs.
func readFile(path string, fs *flag.FlagSet) (map[string][]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("config file: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, errorf("config file %s: %v", path, err)
	}
	out := map[string][]string{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if fs.Lookup(k) == nil || k == "config" {
			return nil, errorf("config file %s: unknown key %q (keys are the flag names of %q; see --help)", path, k, fs.Name())
		}
		switch v := raw[k].(type) {
		case nil:
			return nil, errorf("config file %s: key %q has no value", path, k)
		case map[string]any:
			return nil, errorf("config file %s: key %q: expected a value, got a mapping", path, k)
		case []any:
			for _, item := range v {
				out[k] = append(out[k], fmt.Sprint(item))
			}
		default:
			out[k] = []string{fmt.Sprint(v)}
		}
	}
	return out, nil
}

// StringList is a repeatable string flag (--prefix A --prefix B).
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set appends one value.
func (l *StringList) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}

// IsList marks StringList as repeatable for environment variables.
func (l *StringList) IsList() bool { return true }
