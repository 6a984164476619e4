// Package page renders a workspace's public status page from a snapshot:
// the HTML pages, Atlassian Statuspage-compatible v2 JSON, and Atom and RSS
// feeds. It is pure: the same snapshot and site always give the same bytes,
// which is what lets the server render once per page revision and serve
// the bytes from memory.
package page

import (
	"errors"
	"sort"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
)

// ErrNotFound is returned for paths that are not part of a status page.
var ErrNotFound = errors.New("no such page")

// Site says where a page is served.
type Site struct {
	// Prefix is the path of the page root on its host: "" at the root of a
	// workspace's own host, "/s/acme" on the main host.
	Prefix string
	// RootURL is the absolute URL of the page root, for feeds and links
	// that leave the page (no trailing slash).
	RootURL string
	// Badge shows "Powered by stormwatch" unless the workspace hides it.
	Badge bool
	// Lang is the language the page speaks (nil: the workspace's
	// default); Explicit says it was chosen with ?lang=, so the page's
	// own links keep it.
	Lang     *locale.Locale
	Explicit bool
	// NoIndex asks search engines to leave the page out (private pages).
	NoIndex bool
}

// localeOf is the language the site speaks: its own, else workspace
// w's default.
func (s Site) localeOf(w *sw.Workspace) *locale.Locale {
	if s.Lang == nil {
		return locale.Or(w.Language)
	}
	return s.Lang
}

// query is what the page's own links carry to keep an explicit language.
func (s Site) query() string {
	if !s.Explicit || s.Lang == nil {
		return ""
	}
	return "?lang=" + s.Lang.Code
}

// Resource is one rendered file of a page.
type Resource struct {
	ContentType string
	Body        []byte
}

// Content types of the resources.
const (
	TypeHTML = "text/html; charset=utf-8"
	TypeJSON = "application/json; charset=utf-8"
	TypeAtom = "application/atom+xml; charset=utf-8"
	TypeRSS  = "application/rss+xml; charset=utf-8"
)

// Render renders the resource at path (relative to the page root) from
// snap. Unknown paths give ErrNotFound.
func Render(snap *sw.Snapshot, site Site, path string) (*Resource, error) {
	if body, ok, err := renderJSON(snap, site, path); ok {
		return &Resource{ContentType: TypeJSON, Body: body}, err
	}
	switch {
	case path == "/badge.svg":
		return &Resource{ContentType: TypeSVG, Body: pageBadge(snap)}, nil
	case strings.HasPrefix(path, "/components/") && strings.HasSuffix(path, "/badge.svg"):
		body, ok := componentBadge(snap, strings.TrimSuffix(strings.TrimPrefix(path, "/components/"), "/badge.svg"))
		if !ok {
			return nil, ErrNotFound
		}
		return &Resource{ContentType: TypeSVG, Body: body}, nil
	case path == "/embed.js":
		return &Resource{ContentType: TypeJS, Body: renderEmbedJS(site)}, nil
	}
	switch path {
	case "/feed.xml", "/history.atom":
		body, err := renderAtom(snap, site)
		return &Resource{ContentType: TypeAtom, Body: body}, err
	case "/feed.rss", "/history.rss":
		body, err := renderRSS(snap, site)
		return &Resource{ContentType: TypeRSS, Body: body}, err
	}
	body, err := renderHTML(snap, site, path)
	if err != nil {
		return nil, err
	}
	return &Resource{ContentType: TypeHTML, Body: body}, nil
}

// Localized reports whether the resource at path speaks the reader's
// language: the HTML pages and the feeds do; the Statuspage JSON, the
// badges and the widget's script are the same for everyone.
func Localized(path string) bool {
	switch {
	case strings.HasPrefix(path, "/api/"), strings.HasSuffix(path, ".svg"), path == "/embed.js":
		return false
	}
	return true
}

// Overall is the page's banner: Statuspage's indicator and description.
func Overall(snap *sw.Snapshot) sw.Overall {
	statuses := make([]sw.ComponentStatus, len(snap.Components))
	for i, c := range snap.Components {
		statuses[i] = c.Status
	}
	var impacts []sw.Impact
	for _, inc := range snap.Incidents {
		if inc.Status != sw.Resolved {
			impacts = append(impacts, inc.Impact)
		}
	}
	return sw.ComputeOverall(statuses, impacts)
}

// item is one entry of the page's component list: a component on its own,
// or a group with its components.
type item struct {
	component *sw.Component
	group     *sw.Group
	children  []*sw.Component
	status    sw.ComponentStatus // a group's: the worst of its children
}

// layout orders ungrouped components and groups by position (groups after
// components at equal positions), children by their own position.
func layout(snap *sw.Snapshot) []item {
	byGroup := map[string][]*sw.Component{}
	var items []item
	for i := range snap.Components {
		c := &snap.Components[i]
		if c.GroupID == "" {
			items = append(items, item{component: c})
		} else {
			byGroup[c.GroupID] = append(byGroup[c.GroupID], c)
		}
	}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		it := item{group: g, children: byGroup[g.ID], status: sw.Operational}
		for _, c := range it.children {
			it.status = sw.Worse(it.status, c.Status)
		}
		items = append(items, it)
	}
	pos := func(it item) (int, int) {
		if it.group != nil {
			return it.group.Position, 1
		}
		return it.component.Position, 0
	}
	sort.SliceStable(items, func(i, j int) bool {
		pi, ki := pos(items[i])
		pj, kj := pos(items[j])
		if pi != pj {
			return pi < pj
		}
		return ki < kj
	})
	return items
}

// location is the workspace's time zone, UTC if it cannot be loaded.
// Location is the page's time zone (UTC when its name is unknown).
func Location(w *sw.Workspace) *time.Location { return location(w) }

func location(w *sw.Workspace) *time.Location {
	loc, err := time.LoadLocation(w.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// pageTitle is what the page calls itself in l: the branding title
// exactly as set, or "<name> status" in l's words.
func pageTitle(w *sw.Workspace, l *locale.Locale) string {
	if w.Branding.PageTitle != "" {
		return w.Branding.PageTitle
	}
	return l.T("%s status", w.Name)
}
