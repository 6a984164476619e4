package secret

import "testing"

func TestNewTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := New(KindAPIKey)
		if !HasKind(tok, KindAPIKey) {
			t.Fatalf("token %q is not an API key", tok)
		}
		if HasKind(tok, KindNodeToken) {
			t.Fatalf("token %q passes as node token", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestHashAndPrefix(t *testing.T) {
	tests := []struct {
		name, token, wantPrefix string
	}{
		{"api key", "swk_abcdef0123456789abcdef0123456789", "swk_abcdef"},
		{"short", "swk_a", "swk_a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Prefix(tt.token); got != tt.wantPrefix {
				t.Errorf("Prefix = %q, want %q", got, tt.wantPrefix)
			}
			if h := Hash(tt.token); len(h) != 64 || h == Hash(tt.token+"x") {
				t.Errorf("Hash(%q) = %q", tt.token, h)
			}
		})
	}
}
