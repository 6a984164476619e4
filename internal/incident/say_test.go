package incident

import (
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
)

// TestAutomaticTextsAreTranslated: every text automation writes is in the
// catalogue, so that each language's readers get it in their words.
func TestAutomaticTextsAreTranslated(t *testing.T) {
	texts := []string{"DDoS attack affecting {components}", "Connectivity problems affecting {components}",
		"Service disruption affecting {components}", "Problems affecting {components}",
		"We are investigating an attack on {components} ({attack}, {volume} against {target}).", mixedResolved,
		"The attack is still going on; we have raised its impact.", "The attack is still going on and affects {components} more severely.",
		"our network", "heavy traffic", "traffic flood", "failing check", "problem", "reflection attack"}
	for _, w := range []wording{attackWords, unreachableWords, monitorWords, alertWords} {
		texts = append(texts, w.opened, w.correlated, w.ended, w.resumed, w.intensified, w.resolved)
		if w.mitigating != "" {
			texts = append(texts, w.mitigating, w.subsiding)
		}
	}
	for _, v := range []string{sw.VectorAmplification, sw.VectorSYNFlood, sw.VectorSYNACKReflection, sw.VectorACKFlood, sw.VectorRSTFINFlood,
		sw.VectorTCPFlood, sw.VectorUDPFlood, sw.VectorICMPFlood, sw.VectorFragmentFlood, sw.VectorGREFlood, sw.VectorCarpet, sw.VectorUnreachable} {
		key, _ := sw.Vector{Type: v, Service: sw.Services[0].Key}.Words()
		texts = append(texts, key)
	}
	for _, l := range locale.All() {
		for _, text := range texts {
			if !l.Has(text) {
				t.Errorf("%s lacks %q", l.Code, text)
			}
		}
	}
}

// TestSay: the rule's own text for a language wins, the catalogue
// translates built-in texts, and an operator's text with no translation
// stays as written for every language.
func TestSay(t *testing.T) {
	e := &sw.AttackEvent{Classification: sw.VectorUDPFlood, Vectors: []sw.Vector{{Type: sw.VectorUDPFlood}}}
	vars := eventVars(&sw.Workspace{}, []sw.Component{{Name: "Web"}}, e)
	en, tr := say("We are investigating an attack on {components} ({attack}).", map[string]string{"fr": "Attaque sur {components} !"}, vars)
	if en != "We are investigating an attack on Web (UDP flood)." || tr["de"] != "Wir untersuchen einen Angriff auf Web (UDP-Flood)." ||
		tr["fr"] != "Attaque sur Web !" || tr["ru"] != "Мы изучаем атаку на Web (UDP-флуд)." {
		t.Errorf("say: %q %v", en, tr)
	}
	en, tr = say("Game servers down: {components}", map[string]string{"de": "Spielserver gestört: {components}"}, vars)
	if en != "Game servers down: Web" || len(tr) != 1 || tr["de"] != "Spielserver gestört: Web" {
		t.Errorf("an operator's text: %q %v", en, tr)
	}
}
