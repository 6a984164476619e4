package account

import (
	"strings"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h := HashPassword("correct horse battery", fast)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if h2 := HashPassword("correct horse battery", fast); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		name, hash, password string
		want                 bool
		err                  bool
	}{
		{"right", h, "correct horse battery", true, false},
		{"wrong", h, "correct horse batterY", false, false},
		{"empty password", h, "", false, false},
		{"no password set", "", "anything", false, false},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "x", false, true},
		{"bad params", "$argon2id$v=19$m=x,t=1,p=1$AAAA$AAAA", "x", false, true},
		{"bad version", "$argon2id$v=16$m=64,t=1,p=1$AAAA$AAAA", "x", false, true},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$AAAA$AAAA", "x", false, true},
		{"bad salt", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA", "x", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckPassword(tt.hash, tt.password)
			if got != tt.want || (err != nil) != tt.err {
				t.Fatalf("CheckPassword = %v, %v; want %v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
	if NeedsRehash(h, fast) || !NeedsRehash(h, DefaultParams) {
		t.Error("NeedsRehash does not compare parameters")
	}
}

func TestCheckNewPassword(t *testing.T) {
	tests := []struct {
		password, email string
		ok              bool
	}{
		{"short", "", false},
		{"ten chars!", "", true},
		{"ops@example.com", "ops@example.com", false},
		{"OPS@example.com ", "ops@example.com", false},
		{strings.Repeat("ä", MaxPasswordLen), "", true},
		{strings.Repeat("a", MaxPasswordLen+1), "", false},
		{"abcdefghij\xff", "", false},
	}
	for _, tt := range tests {
		if err := CheckNewPassword(tt.password, tt.email); (err == nil) != tt.ok {
			t.Errorf("CheckNewPassword(%q) = %v, want ok %v", tt.password, err, tt.ok)
		}
	}
}

func TestCSRF(t *testing.T) {
	key := []byte("k")
	tok := CSRFToken(key, "sws_a")
	if !CheckCSRF(key, "sws_a", tok) {
		t.Fatal("own token refused")
	}
	for _, bad := range []string{"", tok + "x", CSRFToken(key, "sws_b"), CSRFToken([]byte("other"), "sws_a")} {
		if CheckCSRF(key, "sws_a", bad) {
			t.Errorf("token %q accepted", bad)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		HashPassword("correct horse battery staple", DefaultParams)
	}
}
