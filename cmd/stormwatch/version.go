package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time:
// go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc123" ./cmd/stormwatch
var (
	version = "dev"
	commit  = ""
)

func runVersion(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "stormwatch version", "Prints the version, the commit it was built from and the Go version.", "  stormwatch version", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := commit
	if c == "" {
		c = "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	fmt.Fprintf(stdout, "stormwatch %s\ncommit %s\n%s %s/%s\n", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
