// Package secret makes and checks the secrets stormwatch hands out: API
// keys and node tokens, and the signatures of stateless links. Only their SHA-256 hash is stored; they carry 192
// random bits, so a fast hash is safe (unlike passwords).
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token kinds, as the first characters of the token, so that a leaked token
// is recognisable by secret scanners and by people.
const (
	KindAPIKey    = "swk_"
	KindNodeToken = "swn_"
	// KindSession is a dashboard sign-in, kept in a cookie.
	KindSession = "sws_"
	// KindLink is a one-time link: first-run setup, password reset,
	// invitation.
	KindLink = "swl_"
)

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// tokenChars random base-62 characters give log2(62)*32 ≈ 190 bits.
const tokenChars = 32

// VisiblePrefixLen is how much of a token is stored in clear and shown in
// listings (kind plus six random characters).
const VisiblePrefixLen = 10

// New returns a fresh token of the given kind.
func New(kind string) string {
	var b strings.Builder
	b.WriteString(kind)
	buf := make([]byte, tokenChars)
	// rand.Read never fails on supported platforms.
	_, _ = rand.Read(buf)
	for _, c := range buf {
		// 256 % 62 != 0 gives a slight bias; rejection sampling removes it.
		for c >= 248 {
			var one [1]byte
			_, _ = rand.Read(one[:])
			c = one[0]
		}
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

// Hash returns the value stored for token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Prefix returns the part of token shown in listings.
func Prefix(token string) string {
	if len(token) < VisiblePrefixLen {
		return token
	}
	return token[:VisiblePrefixLen]
}

// HasKind reports whether token is of kind and of the right length, a
// cheap check before any database lookup.
func HasKind(token, kind string) bool {
	return len(token) == len(kind)+tokenChars && strings.HasPrefix(token, kind)
}

// Sign returns a MAC of parts under key (HMAC-SHA256, 192 bits, URL-safe
// base64): what stateless signed links and cookies carry. Parts are
// separated so that ("ab","c") and ("a","bc") sign differently.
func Sign(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}
