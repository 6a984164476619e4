package stormwatch

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// ID prefixes, so that an id names its kind wherever it is pasted.
const (
	PrefixWorkspace    = "ws_"
	PrefixUser         = "usr_"
	PrefixAPIKey       = "key_"
	PrefixGroup        = "grp_"
	PrefixComponent    = "cmp_"
	PrefixNode         = "node_"
	PrefixIncident     = "inc_"
	PrefixUpdate       = "upd_"
	PrefixMaintenance  = "mnt_"
	PrefixSubscriber   = "sub_"
	PrefixAudit        = "aud_"
	PrefixStatusChange = "chg_"
)

// NewID returns prefix followed by 16 random hex digits (64 bits), enough
// that ids never collide within a deployment and cannot be guessed.
func NewID(prefix string) string {
	var b [8]byte
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// HasPrefix reports whether id looks like an id of the kind prefix names.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix) && len(id) > len(prefix)
}
