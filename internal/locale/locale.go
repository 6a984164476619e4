// Package locale speaks the page's languages: a message catalogue per
// language (catalog/*.json, English source texts as keys), the choice of a
// language from a workspace default, a visitor's Accept-Language or an
// explicit ?lang=, CLDR plural rules, and dates in the reader's format.
//
// golang.org/x/text does the work that is easy to get wrong: BCP 47 tags
// and Accept-Language matching (so "de-AT" or "pt-BR" find German and
// Portuguese), plural categories (Polish, Russian and Ukrainian have
// three or four), and numbers in the reader's format ("99,95" in German).
// The catalogue itself is plain JSON that translators edit without Go.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Default is the language of the source texts, and of a page whose
// workspace names none.
const Default = "en"

// Locale is one language of the catalogue.
type Locale struct {
	// Code is the language's BCP 47 code as used in URLs (?lang=de) and
	// stored on workspaces and subscribers.
	Code string
	// Name is the language's name in itself, for the switcher.
	Name string
	// Dir is "ltr" or "rtl", for <html dir>.
	Dir string

	tag     language.Tag
	printer *message.Printer
	dates   dateFormats
}

// dateFormats are a language's date patterns and month names. Patterns
// use {d} (day), {MMM} (short month), {MMMM} (month in a date: the
// genitive in languages that decline it), {LLLL} (month on its own),
// {yyyy}, {HH}, {mm} and {zone}.
type dateFormats struct {
	Months         []string `json:"months"`
	MonthsGenitive []string `json:"months_genitive"`
	MonthsShort    []string `json:"months_short"`
	DateTime       string   `json:"datetime"`
	Date           string   `json:"date"`
	Short          string   `json:"short"`
	Month          string   `json:"month"`
	Time           string   `json:"time"`
}

// file is one catalogue file. A message is a text, or an object of CLDR
// plural forms ("one", "few", "many", "other") for texts with a count.
type file struct {
	Name     string                     `json:"name"`
	Dir      string                     `json:"dir"`
	Dates    dateFormats                `json:"dates"`
	Messages map[string]json.RawMessage `json:"messages"`
}

//go:embed catalog/*.json
var catalogFS embed.FS

var (
	locales  = map[string]*Locale{}
	ordered  []*Locale
	matcher  language.Matcher
	messages = map[string]map[string]bool{} // code -> keys it translates
)

// The catalogue is part of the binary; a broken file is a build mistake
// that the package's tests catch, so loading it panics rather than
// serving a half-translated page.
func init() {
	if err := load(); err != nil {
		panic(err)
	}
}

func load() error {
	entries, err := catalogFS.ReadDir("catalog")
	if err != nil {
		return err
	}
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for _, e := range entries {
		code := strings.TrimSuffix(e.Name(), ".json")
		raw, err := catalogFS.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			return err
		}
		var f file
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("locale catalogue %s: %w", e.Name(), err)
		}
		tag, err := language.Parse(code)
		if err != nil {
			return fmt.Errorf("locale catalogue %s: %w", e.Name(), err)
		}
		if f.Dir != "ltr" && f.Dir != "rtl" {
			return fmt.Errorf("locale catalogue %s: dir must be ltr or rtl", e.Name())
		}
		if len(f.Dates.Months) != 12 || len(f.Dates.MonthsShort) != 12 || (f.Dates.MonthsGenitive != nil && len(f.Dates.MonthsGenitive) != 12) {
			return fmt.Errorf("locale catalogue %s: twelve month names each", e.Name())
		}
		messages[code] = map[string]bool{}
		for key, m := range f.Messages {
			if err := set(b, tag, key, m); err != nil {
				return fmt.Errorf("locale catalogue %s: message %q: %w", e.Name(), key, err)
			}
			messages[code][key] = true
		}
		l := &Locale{Code: code, Name: f.Name, Dir: f.Dir, tag: tag, dates: f.Dates}
		locales[code] = l
		ordered = append(ordered, l)
	}
	// English first (the fallback the matcher needs at index 0), then by code.
	sort.Slice(ordered, func(i, j int) bool {
		if (ordered[i].Code == Default) != (ordered[j].Code == Default) {
			return ordered[i].Code == Default
		}
		return ordered[i].Code < ordered[j].Code
	})
	tags := make([]language.Tag, len(ordered))
	for i, l := range ordered {
		l.printer = message.NewPrinter(l.tag, message.Catalog(b))
		tags[i] = l.tag
	}
	if len(ordered) == 0 || ordered[0].Code != Default {
		return fmt.Errorf("locale catalogue: %s.json is missing", Default)
	}
	matcher = language.NewMatcher(tags)
	return nil
}

func set(b *catalog.Builder, tag language.Tag, key string, m json.RawMessage) error {
	var text string
	if json.Unmarshal(m, &text) == nil {
		return b.SetString(tag, key, text)
	}
	var forms map[string]string
	if err := json.Unmarshal(m, &forms); err != nil {
		return fmt.Errorf("a text or an object of plural forms")
	}
	if forms["other"] == "" {
		return fmt.Errorf("plural forms need \"other\"")
	}
	// x/text wants the cases in a fixed order, "other" last.
	var cases []any
	for _, k := range []string{"zero", "one", "two", "few", "many", "other"} {
		if s, ok := forms[k]; ok {
			cases = append(cases, k, s)
		}
	}
	if len(cases) != 2*len(forms) {
		return fmt.Errorf("plural forms are zero, one, two, few, many and other")
	}
	// The count is the message's first argument.
	return b.Set(tag, key, plural.Selectf(1, "%d", cases...))
}

// All lists the catalogue's languages, English first.
func All() []*Locale { return ordered }

// Get returns the language with code, and whether the catalogue has it.
func Get(code string) (*Locale, bool) {
	l, ok := locales[code]
	return l, ok
}

// Or returns the language with code, English when there is none.
func Or(code string) *Locale {
	if l, ok := locales[code]; ok {
		return l
	}
	return locales[Default]
}

// Valid reports whether code names a language of the catalogue; empty is
// valid and means the default.
func Valid(code string) bool {
	_, ok := locales[code]
	return ok || code == ""
}

// Codes lists the catalogue's language codes, for error messages.
func Codes() string {
	out := make([]string, len(ordered))
	for i, l := range ordered {
		out[i] = l.Code
	}
	return strings.Join(out, ", ")
}

// Choose picks the language a reader gets: an explicit choice (?lang=)
// when the catalogue has it, else the best match of Accept-Language when
// it matches at all, else the workspace's default.
func Choose(explicit, acceptLanguage, fallback string) *Locale {
	if l, ok := locales[strings.ToLower(explicit)]; ok {
		return l
	}
	if l, ok := Match(acceptLanguage); ok {
		return l
	}
	return Or(fallback)
}

// Match returns the catalogue's best match for an Accept-Language
// header, and whether anything in it matched at all.
func Match(acceptLanguage string) (*Locale, bool) {
	if acceptLanguage == "" {
		return nil, false
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return nil, false
	}
	if _, i, conf := matcher.Match(tags...); conf != language.No {
		return ordered[i], true
	}
	return nil, false
}

// T translates text (an English source text, with fmt verbs for args).
// A text the catalogue lacks is shown in English.
func (l *Locale) T(text string, args ...any) string {
	return l.printer.Sprintf(text, args...)
}

// Has reports whether the catalogue translates text into l's language
// (English has every text).
func (l *Locale) Has(text string) bool { return l.Code == Default || messages[l.Code][text] }

// Percent formats p (0–100) with two decimals in the reader's format,
// never rounding a real outage up to 100.
func (l *Locale) Percent(p float64) string {
	if p < 100 && p >= 99.995 {
		p = 99.99
	}
	return l.printer.Sprintf("%.2f%%", p)
}

// DateTime formats t as a date and time with its zone.
func (l *Locale) DateTime(t time.Time) string { return l.format(l.dates.DateTime, t) }

// Date formats t as a day.
func (l *Locale) Date(t time.Time) string { return l.format(l.dates.Date, t) }

// Short formats t as a day of the year and a time with its zone.
func (l *Locale) Short(t time.Time) string { return l.format(l.dates.Short, t) }

// Month formats t as a month of a year, for headings.
func (l *Locale) Month(t time.Time) string { return l.format(l.dates.Month, t) }

// Clock formats t as a time of day.
func (l *Locale) Clock(t time.Time) string { return l.format(l.dates.Time, t) }

func (l *Locale) format(pattern string, t time.Time) string {
	m := int(t.Month()) - 1
	genitive := l.dates.Months
	if l.dates.MonthsGenitive != nil {
		genitive = l.dates.MonthsGenitive
	}
	zone, _ := t.Zone()
	return strings.NewReplacer(
		"{d}", fmt.Sprint(t.Day()),
		"{MMMM}", genitive[m],
		"{MMM}", l.dates.MonthsShort[m],
		"{LLLL}", l.dates.Months[m],
		"{yyyy}", fmt.Sprint(t.Year()),
		"{HH}", fmt.Sprintf("%02d", t.Hour()),
		"{mm}", fmt.Sprintf("%02d", t.Minute()),
		"{zone}", zone,
	).Replace(pattern)
}
