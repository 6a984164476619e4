package page

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Post-mortems are Markdown written by people: goldmark turns them into
// HTML (CommonMark and GitHub's tables, strikethrough and autolinks; raw
// HTML and javascript: links dropped, as goldmark does unless told
// otherwise), then bluemonday's policy for user content keeps only safe
// elements and attributes — two well-kept libraries, the second in case
// the first ever lets something through.
var (
	markdown  = goldmark.New(goldmark.WithExtensions(extension.GFM))
	sanitizer = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		return p
	}()
)

// RenderMarkdown is md as safe HTML.
func RenderMarkdown(md string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(md)) // escaped: plain text
	}
	return template.HTML(sanitizer.SanitizeBytes(b.Bytes())) // sanitised above
}
