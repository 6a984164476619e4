package page

import (
	"bytes"
	"encoding/xml"
	"html"
	"sort"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// maxFeedEntries bounds a feed, newest first.
const maxFeedEntries = 50

// entry is one feed item: an incident or a maintenance window.
type entry struct {
	id, title, link, content string
	published, updated       time.Time
}

// entries lists the snapshot's incidents and maintenance windows, most
// recently updated first. Ids are URNs made of the workspace and object
// ids, so they stay the same whichever host serves the feed.
func entries(snap *sw.Snapshot, site Site) []entry {
	loc := location(&snap.Workspace)
	l := site.localeOf(&snap.Workspace)
	urn := "urn:stormwatch:" + snap.Workspace.ID + ":"
	var out []entry
	for _, inc := range snap.Incidents {
		var b strings.Builder
		if pm := inc.Postmortem; pm != nil && pm.PublishedAt != nil {
			b.WriteString("<h3>" + html.EscapeString(l.T("Post-mortem")) + "</h3>" + string(RenderMarkdown(pm.Markdown)))
		}
		for _, u := range inc.Updates {
			b.WriteString("<p><small>" + html.EscapeString(l.Short(u.CreatedAt.In(loc))) + "</small><br><strong>" +
				html.EscapeString(l.T(sw.StatusLabel(string(u.Status)))) + "</strong> - " + html.EscapeString(u.MessageTranslations.In(l.Code, u.Message)) + "</p>")
		}
		out = append(out, entry{id: urn + "incident:" + inc.ID, title: inc.TitleTranslations.In(l.Code, inc.Title), link: site.RootURL + "/incidents/" + inc.ID,
			content: b.String(), published: inc.CreatedAt, updated: inc.UpdatedAt})
	}
	for _, m := range snap.Maintenances {
		content := "<p><strong>" + html.EscapeString(l.T(sw.StatusLabel(string(m.State)))) + "</strong> - " +
			html.EscapeString(l.T("%s to %s", l.Short(m.StartsAt.In(loc)), l.Short(m.EndsAt.In(loc)))) + "</p>"
		if m.Message != "" {
			content += "<p>" + html.EscapeString(m.Message) + "</p>"
		}
		out = append(out, entry{id: urn + "maintenance:" + m.ID, title: l.T("Maintenance: %s", m.Title),
			link: site.RootURL + "/maintenance/" + m.ID, content: content, published: m.CreatedAt, updated: m.UpdatedAt})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].updated.Equal(out[j].updated) {
			return out[i].updated.After(out[j].updated)
		}
		return out[i].id < out[j].id
	})
	if len(out) > maxFeedEntries {
		out = out[:maxFeedEntries]
	}
	return out
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Link      atomLink `xml:"link"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Content   atomText `xml:"content"`
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  string      `xml:"author>name"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func renderAtom(snap *sw.Snapshot, site Site) ([]byte, error) {
	l := site.localeOf(&snap.Workspace)
	f := atomFeed{Lang: l.Code, ID: "urn:stormwatch:" + snap.Workspace.ID + ":history", Title: l.T("%s - incident history", pageTitle(&snap.Workspace, l)),
		Updated: rfc3339(lastChange(snap)), Author: snap.Workspace.PageName(),
		Links: []atomLink{{Href: site.RootURL + "/", Rel: "alternate", Type: "text/html"}, {Href: site.RootURL + "/feed.xml", Rel: "self", Type: "application/atom+xml"}}}
	for _, e := range entries(snap, site) {
		f.Entries = append(f.Entries, atomEntry{ID: e.id, Title: e.title, Link: atomLink{Href: e.link, Rel: "alternate", Type: "text/html"},
			Published: rfc3339(e.published), Updated: rfc3339(e.updated), Content: atomText{Type: "html", Body: e.content}})
	}
	return marshalXML(f)
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Body        string `xml:",chardata"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssFeed struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Atom    string   `xml:"xmlns:atom,attr"`
	Channel struct {
		Title       string    `xml:"title"`
		Link        string    `xml:"link"`
		Self        atomLink  `xml:"atom:link"`
		Description string    `xml:"description"`
		Language    string    `xml:"language"`
		PubDate     string    `xml:"pubDate"`
		Items       []rssItem `xml:"item"`
	} `xml:"channel"`
}

func renderRSS(snap *sw.Snapshot, site Site) ([]byte, error) {
	var f rssFeed
	f.Version, f.Atom = "2.0", "http://www.w3.org/2005/Atom"
	c := &f.Channel
	l := site.localeOf(&snap.Workspace)
	c.Title = l.T("%s - incident history", pageTitle(&snap.Workspace, l))
	c.Link = site.RootURL + "/"
	c.Self = atomLink{Href: site.RootURL + "/feed.rss", Rel: "self", Type: "application/rss+xml"}
	c.Description = l.T("Incidents and maintenance of %s", snap.Workspace.PageName())
	c.Language = l.Code
	c.PubDate = lastChange(snap).UTC().Format(time.RFC1123Z)
	for _, e := range entries(snap, site) {
		c.Items = append(c.Items, rssItem{Title: e.title, Link: e.link, GUID: rssGUID{IsPermaLink: "false", Body: e.id},
			PubDate: e.updated.UTC().Format(time.RFC1123Z), Description: e.content})
	}
	return marshalXML(f)
}

func marshalXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
