package web

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stormwatch/stormwatch/internal/locale"
)

// languages remembers which language each Accept-Language header picks:
// browsers send a handful of distinct headers, and matching one costs
// allocations the hot path should not pay on every request.
type languages struct {
	picked sync.Map // header -> *locale.Locale
	size   atomic.Int64
}

// maxLanguageEntries bounds the memo: any client can send any header.
const maxLanguageEntries = 4096

// match is locale.Choose's Accept-Language step: the catalogue's best
// match for header, nil when nothing matches.
func (ls *languages) match(header string) *locale.Locale {
	if header == "" {
		return nil
	}
	if v, ok := ls.picked.Load(header); ok {
		return v.(*locale.Locale)
	}
	l, _ := locale.Match(header)
	if ls.size.Add(1) > maxLanguageEntries {
		ls.picked.Clear()
		ls.size.Store(1)
	}
	ls.picked.Store(strings.Clone(header), l) // header may be a view of a request's buffer
	return l
}

// pick returns the language of a request: ?lang= when the catalogue has
// it (explicit), else the best match of Accept-Language, else the
// workspace's default.
func (ls *languages) pick(rawQuery, acceptLanguage, fallback string) (*locale.Locale, bool) {
	if code := queryValue(rawQuery, "lang"); code != "" {
		if l, ok := locale.Get(strings.ToLower(code)); ok {
			return l, true
		}
	}
	if l := ls.match(acceptLanguage); l != nil {
		return l, false
	}
	return locale.Or(fallback), false
}

// queryValue finds key's raw value in a raw query without allocating.
func queryValue(raw, key string) string {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return v
		}
	}
	return ""
}
