package detect

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Label is one line of a labelled capture set: a capture, the prefix it
// protects, and what the detector must name first ("none": nothing).
type Label struct {
	Capture  string
	Prefix   netip.Prefix
	Expected string
	Line     int
}

// None is the label of captures that must raise nothing.
const None = "none"

// ParseLabels reads a labels file: one capture per line, "CAPTURE PREFIX
// EXPECTED", # comments. EXPECTED is a classification (syn_flood,
// dns_amplification), a family (amplification, reflection) or none.
func ParseLabels(text string) ([]Label, error) {
	var out []Label
	for i, line := range strings.Split(text, "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want CAPTURE PREFIX EXPECTED, found %d fields", i+1, len(f))
		}
		p, err := netip.ParsePrefix(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not a prefix such as 203.0.113.0/24", i+1, f[1])
		}
		out = append(out, Label{Capture: f[0], Prefix: p, Expected: f[2], Line: i + 1})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no labelled capture")
	}
	return out, nil
}

// Named is what the detector named for a capture: the classification of
// its first attack, or None.
func Named(events []Event) string {
	for _, e := range events {
		if e.Type == EventStarted {
			return e.Classification
		}
	}
	return None
}

// Matches reports whether got (a classification or None) is what
// expected asks for.
func Matches(expected, got string) bool {
	switch expected {
	case got:
		return true
	case "amplification":
		return strings.HasSuffix(got, "_amplification")
	case "reflection":
		return strings.HasPrefix(got, "reflection_")
	}
	return false
}

// Confusion counts, for each expected label, what was named.
type Confusion map[string]map[string]int

// Add records one capture.
func (c Confusion) Add(expected, got string) {
	if c[expected] == nil {
		c[expected] = map[string]int{}
	}
	c[expected][got]++
}

// String is the table: a row per expected label, a column per name.
func (c Confusion) String() string {
	var rows []string
	cols := map[string]bool{}
	for e, got := range c {
		rows = append(rows, e)
		for g := range got {
			cols[g] = true
		}
	}
	sort.Strings(rows)
	var names []string
	for g := range cols {
		names = append(names, g)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s", "expected \\ named")
	for _, n := range names {
		fmt.Fprintf(&b, " %*s", max(len(n), 4), n)
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-24s", r)
		for _, n := range names {
			v := "."
			if k := c[r][n]; k > 0 {
				v = fmt.Sprint(k)
			}
			fmt.Fprintf(&b, " %*s", max(len(n), 4), v)
		}
		b.WriteString("\n")
	}
	return b.String()
}
