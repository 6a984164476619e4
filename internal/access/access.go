// Package access decides who may read a private status page: readers who
// gave the page's password or opened an invitation link carry a signed
// cookie; readers from listed address ranges need nothing. It is pure:
// tokens are HMACs keyed with the installation's secret and the
// workspace's access key, so replicas agree without storing sessions, and
// a new access key (or a new password) revokes every cookie and link at
// once.
package access

import (
	"crypto/hmac"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/secret"
)

// Lifetimes of what access gives.
const (
	// CookieTTL is how long a reader keeps access after the password or
	// an invitation link.
	CookieTTL = 30 * 24 * time.Hour
	// LinkTTL is how long an invitation link works.
	LinkTTL = 7 * 24 * time.Hour
)

// CookieName is the access cookie's name; its path is the page root, so
// pages under /s/{slug}/ on one host keep theirs apart.
const CookieName = "sw_access"

// Keys signs and checks access tokens.
type Keys struct {
	// Secret is the installation's secret.
	Secret []byte
}

func (k Keys) mac(parts ...string) string { return secret.Sign(k.Secret, parts...) }

// passwordEpoch ties a cookie to the password it was given for: a new
// password ends the access of everyone who knew the old one.
func passwordEpoch(w *sw.Workspace) string {
	if len(w.Access.PasswordHash) < 16 {
		return w.Access.PasswordHash
	}
	return w.Access.PasswordHash[len(w.Access.PasswordHash)-16:]
}

// Cookie is the value of the access cookie for workspace w, valid until
// now+CookieTTL.
func (k Keys) Cookie(w *sw.Workspace, now time.Time) string {
	exp := strconv.FormatInt(now.Add(CookieTTL).Unix(), 10)
	return exp + "." + k.mac("page-access", w.ID, w.Access.Key, passwordEpoch(w), exp)
}

// CheckCookie reports whether value is a valid access cookie for w at now.
func (k Keys) CheckCookie(w *sw.Workspace, value string, now time.Time) bool {
	exp, tok, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > e {
		return false
	}
	return hmac.Equal([]byte(tok), []byte(k.mac("page-access", w.ID, w.Access.Key, passwordEpoch(w), exp)))
}

// Link is the invitation link for address under page root, valid until
// now+LinkTTL.
func (k Keys) Link(root string, w *sw.Workspace, address string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(LinkTTL).Unix(), 10)
	return root + "/access/link?" + url.Values{"a": {address}, "e": {exp}, "t": {k.mac("page-invite", w.ID, w.Access.Key, address, exp)}}.Encode()
}

// CheckLink reports whether query q is a valid invitation link for w at
// now, and returns the address it was sent to (which must still be
// invited: the caller asks the store).
func (k Keys) CheckLink(w *sw.Workspace, q url.Values, now time.Time) (string, bool) {
	address, exp, tok := q.Get("a"), q.Get("e"), q.Get("t")
	e, err := strconv.ParseInt(exp, 10, 64)
	if address == "" || tok == "" || err != nil || now.Unix() > e {
		return "", false
	}
	return address, hmac.Equal([]byte(tok), []byte(k.mac("page-invite", w.ID, w.Access.Key, address, exp)))
}

// FromRanges reports whether client address addr is in one of w's
// listed ranges.
func FromRanges(w *sw.Workspace, addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, r := range w.Access.IPRanges {
		if p, err := netip.ParsePrefix(r); err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}
