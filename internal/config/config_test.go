package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newFlags() (*flag.FlagSet, *Database, *Server, *StringList) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var db Database
	var srv Server
	var prefixes StringList
	db.Register(fs)
	srv.Register(fs)
	fs.Var(&prefixes, "prefix", "")
	return fs, &db, &srv, &prefixes
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stormwatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "addr: 127.0.0.1:7000\ndata-dir: /from/file\nbase-url: http://file.example\nprefix: [192.0.2.0/24, 198.51.100.0/24]\n")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantDir  string
		wantBase string
		wantPfx  string
	}{
		{"defaults", nil, nil, "127.0.0.1:8080", "./data", "", ""},
		{"file", []string{"--config", file}, nil, "127.0.0.1:7000", "/from/file", "http://file.example", "192.0.2.0/24,198.51.100.0/24"},
		{"env over file", []string{"--config", file}, map[string]string{"STORMWATCH_ADDR": "127.0.0.1:7001", "STORMWATCH_PREFIX": "203.0.113.0/24, 2001:db8::/32"},
			"127.0.0.1:7001", "/from/file", "http://file.example", "203.0.113.0/24,2001:db8::/32"},
		{"flag over env", []string{"--config", file, "--addr", "127.0.0.1:7002"}, map[string]string{"STORMWATCH_ADDR": "127.0.0.1:7001"},
			"127.0.0.1:7002", "/from/file", "http://file.example", "192.0.2.0/24,198.51.100.0/24"},
		{"config from env", nil, map[string]string{"STORMWATCH_CONFIG": file}, "127.0.0.1:7000", "/from/file", "http://file.example", "192.0.2.0/24,198.51.100.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, db, srv, pfx := newFlags()
			getenv := func(k string) string { return tt.env[k] }
			if err := Parse(fs, tt.args, getenv); err != nil {
				t.Fatal(err)
			}
			if srv.Addr != tt.wantAddr || db.DataDir != tt.wantDir || srv.BaseURL != tt.wantBase || pfx.String() != tt.wantPfx {
				t.Errorf("got addr=%q dir=%q base=%q prefix=%q", srv.Addr, db.DataDir, srv.BaseURL, pfx.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		args    []string
		env     map[string]string
		wantMsg string
	}{
		{"unknown key", "adr: 1.2.3.4:80\n", nil, nil, `unknown key "adr"`},
		{"mapping", "addr:\n  host: x\n", nil, nil, `key "addr": expected a value`},
		{"bad yaml", "addr: [\n", nil, nil, "config file"},
		{"bad duration in file", "shutdown-timeout: soon\n", nil, nil, `key "shutdown-timeout"`},
		{"bad duration in env", "", nil, map[string]string{"STORMWATCH_SHUTDOWN_TIMEOUT": "soon"}, "STORMWATCH_SHUTDOWN_TIMEOUT"},
		{"unknown flag", "", []string{"--nope"}, nil, "flag provided but not defined: -nope"},
		{"missing file", "", []string{"--config", "/does/not/exist.yaml"}, nil, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _, _, _ := newFlags()
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			err := Parse(fs, args, func(k string) string { return tt.env[k] })
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		db      Database
		srv     Server
		wantMsg string
	}{
		{"ok sqlite", Database{DataDir: t.TempDir()}, Server{Addr: "127.0.0.1:0", PagesDomain: "localhost", ShutdownTimeout: 1}, ""},
		{"ok postgres", Database{DatabaseURL: "postgres://u:secret@127.0.0.1:5432/test"}, Server{Addr: ":8080", BaseURL: "https://status.example.com/", PagesDomain: "status.example.com", ShutdownTimeout: 1}, ""},
		{"bad scheme", Database{DatabaseURL: "mysql://u:secret@h/db"}, Server{}, `database-url: scheme "mysql"`},
		{"no host", Database{DatabaseURL: "postgres:///db"}, Server{}, "database-url: no host"},
		{"unparsable", Database{DatabaseURL: "postgres://u:sec ret@h:bad/db"}, Server{}, "database-url: not a URL"},
		{"bad addr", Database{DataDir: t.TempDir()}, Server{Addr: "8080", PagesDomain: "x", ShutdownTimeout: 1}, "addr:"},
		{"bad base url", Database{DataDir: t.TempDir()}, Server{Addr: ":1", BaseURL: "status.example.com", PagesDomain: "x", ShutdownTimeout: 1}, "base-url:"},
	}
	if os.Geteuid() != 0 { // root writes anywhere, so the check cannot fail as root
		tests = append(tests, struct {
			name    string
			db      Database
			srv     Server
			wantMsg string
		}{"unwritable dir", Database{DataDir: readOnly}, Server{}, "data-dir:"})
	}
	tests = append(tests, struct {
		name    string
		db      Database
		srv     Server
		wantMsg string
	}{"dir is a file", Database{DataDir: writeFile(t, "x")}, Server{}, "data-dir:"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.db.Validate()
			if err == nil {
				err = tt.srv.Validate()
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"200k", 200_000, false}, {"1.5M", 1_500_000, false}, {"10G", 10_000_000_000, false},
		{"2500", 2500, false}, {"0", 0, false}, {"fast", 0, true}, {"-1k", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v", tt.in, got, err)
		}
		if err == nil && tt.in != "0" {
			if back, _ := ParseRate(FormatRate(got)); back != got {
				t.Errorf("FormatRate(%d) = %q does not parse back", got, FormatRate(got))
			}
		}
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"40MiB", 40 << 20, true}, {"1GiB", 1 << 30, true}, {"512KiB", 512 << 10, true}, {"0", 0, true}, {"1000", 1000, true},
		{"40MB", 0, false}, {"-1", 0, false}, {"lots", 0, false},
	} {
		var z Size
		err := z.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && uint64(z) != tc.want) {
			t.Errorf("Size(%q) = %d, %v", tc.in, z, err)
		}
		if tc.ok && tc.in != "0" && tc.in != "1000" && z.String() != tc.in {
			t.Errorf("Size(%q).String() = %q", tc.in, z.String())
		}
	}
}
