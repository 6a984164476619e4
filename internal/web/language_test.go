package web

import "testing"

func TestLanguagePick(t *testing.T) {
	var ls languages
	for _, c := range []struct {
		name, query, accept, fallback, want string
		explicit                            bool
	}{
		{"nothing asked", "", "", "de", "de", false},
		{"browser language", "", "fr-FR,fr;q=0.9,en;q=0.8", "de", "fr", false},
		{"a browser language we lack", "", "ja-JP,ja", "nl", "nl", false},
		{"?lang wins", "lang=uk", "fr", "de", "uk", true},
		{"?lang among others", "x=1&lang=PL&y=2", "", "en", "pl", true},
		{"unknown ?lang", "lang=tlh", "es", "en", "es", false},
		{"remembered header", "", "fr-FR,fr;q=0.9,en;q=0.8", "it", "fr", false},
	} {
		l, explicit := ls.pick(c.query, c.accept, c.fallback)
		if l.Code != c.want || explicit != c.explicit {
			t.Errorf("%s: %s explicit=%v, want %s explicit=%v", c.name, l.Code, explicit, c.want, c.explicit)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { ls.pick("", "fr-FR,fr;q=0.9,en;q=0.8", "de") }); allocs != 0 {
		t.Errorf("a known Accept-Language costs %.0f allocations", allocs)
	}
}

func TestHostname(t *testing.T) {
	for in, want := range map[string]string{"status.example.com": "status.example.com", "Status.Example.COM:8080": "status.example.com",
		"status.example.com.": "status.example.com", "127.0.0.1:8080": "127.0.0.1", "[::1]:8080": "::1", "[2001:db8::1]": "2001:db8::1",
		"2001:db8::1": "2001:db8::1", "": ""} {
		if got := hostname(in); got != want {
			t.Errorf("hostname(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { hostname("status.example.com:8080") }); n != 0 {
		t.Errorf("hostname allocates %.0f times", n)
	}
}
