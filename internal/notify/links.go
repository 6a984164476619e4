package notify

import (
	"crypto/hmac"
	"net/url"
	"strconv"
	"time"

	"github.com/stormwatch/stormwatch/internal/secret"
)

// Links makes and checks the signed links of subscription mails: confirm
// (expires), manage and unsubscribe (valid while the subscriber exists).
// A link carries the subscriber id and an HMAC of what it allows, keyed
// with the installation's secret, so that nobody can forge one for
// another address and replicas agree without storing tokens.
type Links struct {
	Key []byte
}

// ConfirmTTL is how long a double opt-in link works.
const ConfirmTTL = 48 * time.Hour

func (l Links) mac(parts ...string) string { return secret.Sign(l.Key, parts...) }

// Confirm is the double opt-in link under page root for subscriber sub,
// valid until now+ConfirmTTL.
func (l Links) Confirm(root, sub string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(ConfirmTTL).Unix(), 10)
	return root + "/subscriptions/confirm?" + url.Values{"s": {sub}, "e": {exp}, "t": {l.mac("confirm", sub, exp)}}.Encode()
}

// Manage is the link to a subscriber's preferences.
func (l Links) Manage(root, sub string) string {
	return root + "/subscriptions/manage?" + url.Values{"s": {sub}, "t": {l.mac("manage", sub)}}.Encode()
}

// Unsubscribe is the one-click unsubscribe link (RFC 8058: a POST to it
// unsubscribes; a GET shows a button).
func (l Links) Unsubscribe(root, sub string) string {
	return root + "/subscriptions/unsubscribe?" + url.Values{"s": {sub}, "t": {l.mac("unsubscribe", sub)}}.Encode()
}

// Check reports whether query q (s, t and, for confirm, e) is a valid link
// for purpose at now, and returns the subscriber it names.
func (l Links) Check(purpose string, q url.Values, now time.Time) (string, bool) {
	sub, tok := q.Get("s"), q.Get("t")
	if sub == "" || tok == "" {
		return "", false
	}
	parts := []string{purpose, sub}
	if purpose == "confirm" {
		exp, err := strconv.ParseInt(q.Get("e"), 10, 64)
		if err != nil || now.Unix() > exp {
			return "", false
		}
		parts = append(parts, q.Get("e"))
	}
	return sub, hmac.Equal([]byte(tok), []byte(l.mac(parts...)))
}
