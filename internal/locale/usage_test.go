package locale

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// textUses finds the catalogue texts the code asks for: l.T("…") in Go,
// .L.T "…" in templates.
var textUses = []*regexp.Regexp{
	regexp.MustCompile(`\.T\(("(?:[^"\\]|\\.)*")`),
	regexp.MustCompile(`\.T ("(?:[^"\\]|\\.)*")`),
}

// TestEveryTextTheCodeUsesIsInTheCatalogue: a text added to a template or
// to Go without a catalogue entry would show in English on every page.
func TestEveryTextTheCodeUsesIsInTheCatalogue(t *testing.T) {
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		ext := filepath.Ext(path)
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || (ext != ".go" && ext != ".html" && ext != ".txt") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range textUses {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				text, err := strconv.Unquote(m[1])
				if err != nil {
					continue
				}
				found++
				if !messages[Default][text] {
					t.Errorf("%s asks for %q, which the catalogue does not have (add it to catalog/*.json)", path, text)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 100 {
		t.Errorf("found only %d uses of the catalogue: is the search still right?", found)
	}
}
