// Package account holds the pure rules of dashboard accounts: how
// passwords are hashed and checked (argon2id), what a new password must
// be, and how the anti-CSRF token of a session is derived.
package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	sw "github.com/stormwatch/stormwatch"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow OWASP's password storage recommendation for
// argon2id (19 MiB, two passes, one lane): about 30 ms on this project's
// 2-core CI machine, so a burst of sign-ins cannot exhaust memory.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen and MaxPasswordLen bound a new password (in
	// characters); the upper bound keeps hashing cheap for hostile input.
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of password
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), salted at random.
func HashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	// crypto/rand.Read never fails on supported platforms.
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrBadHash means a stored hash is not an argon2id PHC string.
var ErrBadHash = errors.New("stored password hash is not an argon2id PHC string")

// CheckPassword reports whether password matches the PHC string hash, in
// time that does not depend on where they differ. An empty hash (an
// account that never set a password) matches nothing.
func CheckPassword(hash, password string) (bool, error) {
	if hash == "" {
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return false, ErrBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether hash was made with other parameters than p,
// so that a successful sign-in can upgrade it.
func NeedsRehash(hash string, p Params) bool {
	return !strings.HasPrefix(hash, fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.Memory, p.Time, p.Threads))
}

// CheckNewPassword says what is wrong with a password someone chose, if
// anything. Length is what matters (NIST SP 800-63B): no composition
// rules, but not the e-mail address itself.
func CheckNewPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return sw.Invalid("password", "must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return sw.Invalid("password", "must be at most %d characters", MaxPasswordLen)
	case !utf8.ValidString(password):
		return sw.Invalid("password", "must be valid UTF-8")
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return sw.Invalid("password", "must not be your e-mail address")
	}
	return nil
}

// CSRFToken is the anti-forgery token of a session: derived from the
// session's secret, so nothing more is stored and it changes with every
// sign-in.
func CSRFToken(key []byte, session string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("csrf\x00"))
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is session's anti-forgery token.
func CheckCSRF(key []byte, session, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(CSRFToken(key, session)))
}
