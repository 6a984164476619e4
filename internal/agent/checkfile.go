package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	sw "github.com/stormwatch/stormwatch"
	"gopkg.in/yaml.v3"
)

// LoadChecks reads a YAML list of checks this node declares, in the
// fields of POST /api/v1/checks without nodes (the node is the one that
// declares them), and validates each, naming the entry and field at
// fault:
//
//   - name: website https
//     component: web
//     type: http
//     target: https://www.example.com/health
//     interval: 30s
func LoadChecks(path string) ([]sw.Check, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]sw.Check, len(raw))
	names := map[string]bool{}
	for i, entry := range raw {
		if _, ok := entry["nodes"]; ok {
			return nil, fmt.Errorf("%s: checks[%d].nodes: a declared check runs on the node that declares it; leave nodes out", path, i)
		}
		// Through JSON, so that the file takes exactly the API's fields.
		js, err := json.Marshal(entry)
		if err != nil {
			return nil, fmt.Errorf("%s: checks[%d]: %w", path, i, err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		var k sw.Check
		if err := dec.Decode(&k); err != nil {
			return nil, fmt.Errorf("%s: checks[%d]: %w", path, i, err)
		}
		if k.ID != "" || k.ComponentID != "" || k.State != nil || !k.CreatedAt.IsZero() {
			return nil, fmt.Errorf("%s: checks[%d]: only the fields of POST /api/v1/checks may be set", path, i)
		}
		k.Nodes = []string{"declared"}
		if k.Component == "" {
			return nil, fmt.Errorf("%s: checks[%d].component: is required", path, i)
		}
		k.Defaults()
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("%s: checks[%d].%w", path, i, err)
		}
		if names[k.Name] {
			return nil, fmt.Errorf("%s: checks[%d].name: %q is declared twice", path, i, k.Name)
		}
		names[k.Name] = true
		k.Nodes = nil
		out[i] = k
	}
	return out, nil
}
