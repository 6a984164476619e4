package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormwatch/stormwatch/internal/rules"
)

// TestRulesPrecedenceIsOneTruth: the README and `rules check` say how
// rules combine in the engine's own words (the dashboard's screen is
// checked in its package).
func TestRulesPrecedenceIsOneTruth(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(readme)), " ")
	if !strings.Contains(flat, rules.Precedence) {
		t.Error("README.md does not say how rules combine in the words of rules.Precedence")
	}
	file := filepath.Join(t.TempDir(), "rules.txt")
	if err := os.WriteFile(file, []byte("severity >= high -> publish immediately\nduration > 5m -> escalate to major_outage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, nil, "rules", "check", file, "--severity", "high", "--duration", "6m")
	if code != 0 || !strings.Contains(out, rules.Precedence) {
		t.Errorf("rules check (exit %d) does not explain precedence:\n%s", code, out)
	}
	if !strings.Contains(out, "component status major_outage, incident impact critical") {
		t.Errorf("an escalation to major_outage did not raise the impact:\n%s", out)
	}
}
