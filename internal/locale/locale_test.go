package locale

import (
	"testing"
	"time"
)

func TestEveryLanguageTranslatesEveryText(t *testing.T) {
	if len(All()) < 10 {
		t.Fatalf("%d languages, want at least 10: %s", len(All()), Codes())
	}
	for _, l := range All() {
		for key := range messages[Default] {
			if !l.Has(key) {
				t.Errorf("%s lacks %q", l.Code, key)
			}
		}
		for key := range messages[l.Code] {
			if !messages[Default][key] {
				t.Errorf("%s translates %q, which English does not have (a stale text?)", l.Code, key)
			}
		}
	}
}

func TestChoose(t *testing.T) {
	for _, c := range []struct{ name, explicit, accept, fallback, want string }{
		{"workspace default", "", "", "de", "de"},
		{"unknown default", "", "", "xx", "en"},
		{"accept-language", "", "fr-CH, fr;q=0.9, en;q=0.8", "en", "fr"},
		{"regional variant", "", "pt-BR", "en", "pt"},
		{"quality order", "", "ja, uk;q=0.9, ru;q=0.8", "en", "uk"},
		{"nothing matches", "", "ja, zh", "nl", "nl"},
		{"explicit wins", "es", "de", "en", "es"},
		{"explicit upper case", "IT", "", "en", "it"},
		{"unknown explicit", "xx", "pl", "en", "pl"},
		{"broken header", "", ";;;q=", "it", "it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Choose(c.explicit, c.accept, c.fallback).Code; got != c.want {
				t.Errorf("Choose(%q, %q, %q) = %s, want %s", c.explicit, c.accept, c.fallback, got, c.want)
			}
		})
	}
}

func TestPluralsFollowEachLanguage(t *testing.T) {
	const key = "%d days not fully operational"
	for _, c := range []struct {
		code string
		n    int
		want string
	}{
		{"en", 1, "1 day not fully operational"},
		{"en", 3, "3 days not fully operational"},
		{"ru", 1, "1 день неполной работоспособности"},
		{"ru", 3, "3 дня неполной работоспособности"},
		{"ru", 5, "5 дней неполной работоспособности"},
		{"ru", 21, "21 день неполной работоспособности"},
		{"uk", 22, "22 дні неповної працездатності"},
		{"pl", 2, "2 dni bez pełnej sprawności"},
		{"de", 1, "1 Tag nicht voll betriebsbereit"},
	} {
		if got := Or(c.code).T(key, c.n); got != c.want {
			t.Errorf("%s, %d: %q, want %q", c.code, c.n, got, c.want)
		}
	}
}

func TestDatesAndNumbersInTheReadersFormat(t *testing.T) {
	at := time.Date(2026, 11, 3, 14, 5, 0, 0, time.UTC)
	for _, c := range []struct{ code, datetime, month, percent string }{
		{"en", "Nov 3, 2026 14:05 UTC", "November 2026", "99.95%"},
		{"de", "3. Nov. 2026, 14:05 UTC", "November 2026", "99,95%"},
		{"fr", "3 nov. 2026, 14:05 UTC", "novembre 2026", "99,95%"},
		{"ru", "3 ноября 2026, 14:05 UTC", "Ноябрь 2026", "99,95%"},
		{"pl", "3 listopada 2026, 14:05 UTC", "listopad 2026", "99,95%"},
	} {
		l := Or(c.code)
		if got := l.DateTime(at); got != c.datetime {
			t.Errorf("%s DateTime = %q, want %q", c.code, got, c.datetime)
		}
		if got := l.Month(at); got != c.month {
			t.Errorf("%s Month = %q, want %q", c.code, got, c.month)
		}
		if got := l.Percent(99.95); got != c.percent {
			t.Errorf("%s Percent = %q, want %q", c.code, got, c.percent)
		}
	}
	if got := Or("en").Percent(99.999); got != "99.99%" {
		t.Errorf("a real outage rounded up: %s", got)
	}
}

func TestUntranslatedTextFallsBackToEnglish(t *testing.T) {
	if got := Or("de").T("Some operator text %s", "x"); got != "Some operator text x" {
		t.Errorf("got %q", got)
	}
	if !Valid("") || !Valid("uk") || Valid("tlh") {
		t.Error("Valid")
	}
}
