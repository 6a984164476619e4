// Package proctest runs the helper processes of tests (a BGP speaker, an
// Alertmanager, agents): started, killed and reaped when the test ends,
// their output kept and shown when the test failed.
package proctest

import (
	"bytes"
	"os/exec"
	"sync"
	"testing"
)

// Output collects a process's output; it may be read while the process
// still writes.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// WriteString appends s.
func (o *Output) WriteString(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.WriteString(s)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Start starts cmd with its output (stdout and stderr) collected, and
// kills and reaps it when the test ends, logging the output under name
// if the test failed.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Output {
	t.Helper()
	out := &Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", name, out)
		}
	})
	return out
}
