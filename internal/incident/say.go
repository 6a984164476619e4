package incident

import (
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/rules"
)

// varsIn gives a text's placeholders in one language: the components'
// names as the operator wrote them, the attack in that language's public
// words.
type varsIn func(l *locale.Locale) map[string]string

// fixedVars are placeholders that read the same in every language.
func fixedVars(vars map[string]string) varsIn {
	return func(*locale.Locale) map[string]string { return vars }
}

// say expands template tmpl in English and in every other language of the
// catalogue. A language gets the operator's own text for it (own, from
// the rules), else the catalogue's translation when tmpl is one of the
// built-in texts, else nothing: its readers see the English (or the
// operator's) text.
func say(tmpl string, own map[string]string, vars varsIn) (string, sw.Translations) {
	text := rules.Expand(tmpl, vars(locale.Or(locale.Default)))
	var out sw.Translations
	for _, l := range locale.All() {
		if l.Code == locale.Default {
			continue
		}
		var t string
		switch {
		case own[l.Code] != "":
			t = own[l.Code]
		case tmpl != "" && l.Has(tmpl):
			t = l.T(tmpl)
		default:
			continue
		}
		if out == nil {
			out = sw.Translations{}
		}
		out[l.Code] = rules.Expand(t, vars(l))
	}
	return text, out
}

// publicAttack is the attack's kind in l's public words; reflection keeps
// its port to itself.
func publicAttack(e *sw.AttackEvent, l *locale.Locale) string {
	switch {
	case len(e.Vectors) == 0:
		return l.T("traffic flood")
	case e.Monitor != nil:
		return l.T("failing check")
	case e.Classification == sw.VectorAlert:
		return l.T("problem")
	case e.Vectors[0].Type == sw.VectorReflection:
		return l.T("reflection attack") // the port would say too much
	}
	key, args := e.Vectors[0].Words()
	return l.T(key, args...)
}
