package stormwatch

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ValidationError says which input field is wrong and why. The HTTP layer
// turns it into a 422 response naming the field.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid builds a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Length limits of user text, shared by the API and the store.
const (
	MaxNameLen    = 200
	MaxTitleLen   = 300
	MaxMessageLen = 20000
	MaxSlugLen    = 64
	MaxDescLen    = 2000
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// CheckSlug validates a URL- and DNS-safe slug (lower-case letters, digits
// and inner hyphens), as used for workspaces and components.
func CheckSlug(field, s string) error {
	switch {
	case s == "":
		return Invalid(field, "is required")
	case len(s) > MaxSlugLen:
		return Invalid(field, "must be at most %d characters", MaxSlugLen)
	case !slugPattern.MatchString(s):
		return Invalid(field, "must be lower-case letters, digits and inner hyphens, like \"us-east-game-01\"")
	}
	return nil
}

// CheckText validates free text: valid UTF-8, no control characters other
// than newlines and tabs, at most max characters, and present if required.
func CheckText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid(field, "must be at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return Invalid(field, "contains a control character")
		}
	}
	return nil
}

// Slugify derives a slug from a display name ("US-East game 01" ->
// "us-east-game-01"); it may return "" when nothing usable is left.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > MaxSlugLen {
		s = strings.TrimSuffix(s[:MaxSlugLen], "-")
	}
	return s
}

// CheckEmail returns address s in the form it is stored (lower case), or a
// validation error on field when s is not one plain address.
func CheckEmail(field, s string) (string, error) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != strings.TrimSpace(s) || addr.Name != "" || len(s) > 254 {
		return "", Invalid(field, "must be a plain email address such as ops@example.com")
	}
	return strings.ToLower(addr.Address), nil
}

var hostnameLabel = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckHostname validates a DNS name a status page can be served on: at
// least two labels of letters, digits and inner hyphens, no IP address,
// at most 253 characters.
func CheckHostname(field, host string) error {
	labels := strings.Split(host, ".")
	if host == "" || len(host) > 253 || len(labels) < 2 {
		return Invalid(field, "must be a domain name such as status.example.com")
	}
	for _, l := range labels {
		if !hostnameLabel.MatchString(l) {
			return Invalid(field, "must be a domain name such as status.example.com (letters, digits, hyphens)")
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return Invalid(field, "must be a domain name, not an IP address")
	}
	return nil
}

// Truncate cuts s to at most n characters, ending with "…" when cut, so
// that text from outside fits a field's limit.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
