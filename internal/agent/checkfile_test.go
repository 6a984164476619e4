package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadChecks(t *testing.T) {
	tests := []struct {
		name, yaml, err string
	}{
		{"good", "- name: web\n  component: web\n  type: http\n  target: https://www.example.com/\n  interval: 1m\n- name: game\n  component: g\n  type: udp\n  target: 203.0.113.7:27015\n  payload: minecraft\n", ""},
		{"not a list", "name: web\n", "cannot unmarshal"},
		{"unknown field", "- name: web\n  component: web\n  type: http\n  target: https://x.example/\n  tiemout: 5s\n", `unknown field "tiemout"`},
		{"nodes", "- name: web\n  component: web\n  type: tcp\n  target: x.example:80\n  nodes: ['*']\n", "checks[0].nodes"},
		{"bad target", "- name: web\n  component: web\n  type: tcp\n  target: x.example\n", "checks[0].target: must be host:port"},
		{"bad duration", "- name: web\n  component: web\n  type: tcp\n  target: x.example:80\n  interval: often\n", "not a duration"},
		{"no component", "- name: web\n  type: tcp\n  target: x.example:80\n", "checks[0].component: is required"},
		{"twice", "- {name: a, component: c, type: tcp, target: 'x.example:80'}\n- {name: a, component: c, type: tcp, target: 'y.example:80'}\n", "declared twice"},
		{"server-side field", "- {id: chk_1, name: a, component: c, type: tcp, target: 'x.example:80'}\n", "only the fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "checks.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			checks, err := LoadChecks(path)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err == "" && (len(checks) != 2 || checks[0].Timeout == 0 || checks[1].Payload != "minecraft" || checks[0].Nodes != nil):
				t.Fatalf("checks = %+v", checks)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one with %q", err, tt.err)
			}
		})
	}
}
