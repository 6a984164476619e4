package access

import (
	"net/url"
	"strings"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

func TestCookies(t *testing.T) {
	k := Keys{Secret: []byte("installation secret")}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	w := &sw.Workspace{ID: "ws_a", Access: sw.PageAccess{Private: true, Key: "k1", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaGhhc2hoYXNo"}}
	c := k.Cookie(w, now)
	other := *w
	other.ID = "ws_b"
	rotated := *w
	rotated.Access.Key = "k2"
	newPassword := *w
	newPassword.Access.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXJwYXNzd29yZA"
	for _, tc := range []struct {
		name  string
		w     *sw.Workspace
		value string
		at    time.Time
		want  bool
	}{
		{"fresh", w, c, now, true},
		{"a month less a minute", w, c, now.Add(CookieTTL - time.Minute), true},
		{"expired", w, c, now.Add(CookieTTL + time.Minute), false},
		{"another workspace", &other, c, now, false},
		{"key rotated", &rotated, c, now, false},
		{"password changed", &newPassword, c, now, false},
		{"tampered expiry", w, "9999999999." + strings.SplitN(c, ".", 2)[1], now, false},
		{"garbage", w, "nonsense", now, false},
		{"empty", w, "", now, false},
	} {
		if got := k.CheckCookie(tc.w, tc.value, tc.at); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if (Keys{Secret: []byte("another installation")}).CheckCookie(w, c, now) {
		t.Error("a cookie of another installation works")
	}
}

func TestInvitationLinks(t *testing.T) {
	k := Keys{Secret: []byte("installation secret")}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	w := &sw.Workspace{ID: "ws_a", Access: sw.PageAccess{Private: true, Key: "k1"}}
	link := k.Link("https://status.example.com", w, "ann@example.com", now)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/access/link" {
		t.Fatalf("link %s", link)
	}
	if a, ok := k.CheckLink(w, u.Query(), now.Add(time.Hour)); !ok || a != "ann@example.com" {
		t.Errorf("a fresh link: %q %v", a, ok)
	}
	if _, ok := k.CheckLink(w, u.Query(), now.Add(LinkTTL+time.Minute)); ok {
		t.Error("an expired link works")
	}
	q := u.Query()
	q.Set("a", "mallory@example.com")
	if _, ok := k.CheckLink(w, q, now); ok {
		t.Error("a link with another address works")
	}
	rotated := *w
	rotated.Access.Key = "k2"
	if _, ok := k.CheckLink(&rotated, u.Query(), now); ok {
		t.Error("a link works after access was revoked")
	}
}

func TestRanges(t *testing.T) {
	w := &sw.Workspace{Access: sw.PageAccess{IPRanges: []string{"203.0.113.0/24", "2001:db8::/32"}}}
	for addr, want := range map[string]bool{"203.0.113.9": true, "::ffff:203.0.113.9": true, "203.0.114.1": false, "2001:db8::1": true,
		"2001:db9::1": false, "": false, "not an address": false} {
		if got := FromRanges(w, addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
}
