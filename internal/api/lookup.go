package api

import (
	"errors"
	"sort"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// changes turns the {"slug": "status"} object of a request into store
// changes, in a stable order.
func changes(m map[string]sw.ComponentStatus) []store.ComponentChange {
	out := make([]store.ComponentChange, 0, len(m))
	for ref, st := range m {
		out = append(out, store.ComponentChange{Ref: ref, Status: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}
