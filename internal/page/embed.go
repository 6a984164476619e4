package page

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	sw "github.com/stormwatch/stormwatch"
)

// Content types of the embeds.
const (
	TypeSVG = "image/svg+xml"
	TypeJS  = "text/javascript; charset=utf-8"
)

// badgeColors are the shields.io colours for a page indicator or a
// component status.
var badgeColors = map[string]string{
	string(sw.IndicatorNone): "#4c1", string(sw.IndicatorMinor): "#dfb317", string(sw.IndicatorMajor): "#fe7d37",
	string(sw.IndicatorCritical): "#e05d44", string(sw.IndicatorMaintenance): "#007ec6",
	string(sw.Operational): "#4c1", string(sw.DegradedPerformance): "#dfb317", string(sw.PartialOutage): "#fe7d37",
	string(sw.MajorOutage): "#e05d44", string(sw.UnderMaintenance): "#007ec6",
}

var indicatorWords = map[sw.Indicator]string{sw.IndicatorNone: "operational", sw.IndicatorMinor: "degraded",
	sw.IndicatorMajor: "partial outage", sw.IndicatorCritical: "major outage", sw.IndicatorMaintenance: "maintenance"}

// renderBadge is a shields-style badge: label on grey, message on color.
// Widths follow Verdana 11px closely enough for the short words used.
func renderBadge(label, message, color string) []byte {
	w := func(s string) int { return 10 + 7*utf8.RuneCountInString(s) }
	lw, mw := w(label), w(message)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, lw+mw,
		html.EscapeString(label), html.EscapeString(message))
	fmt.Fprintf(&b, `<title>%s: %s</title>`, html.EscapeString(label), html.EscapeString(message))
	fmt.Fprintf(&b, `<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, lw+mw)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, mw, color, lw+mw)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, lw/2, html.EscapeString(label), lw+mw/2, html.EscapeString(message))
	return b.Bytes()
}

// pageBadge is /badge.svg: the page's overall status.
func pageBadge(snap *sw.Snapshot) []byte {
	o := Overall(snap)
	return renderBadge("status", indicatorWords[o.Indicator], badgeColors[string(o.Indicator)])
}

// componentBadge is /components/{slug}/badge.svg.
func componentBadge(snap *sw.Snapshot, slug string) ([]byte, bool) {
	for _, c := range snap.Components {
		if c.Slug == slug {
			return renderBadge(c.Name, strings.ToLower(sw.StatusLabel(string(c.Status))), badgeColors[string(c.Status)]), true
		}
	}
	return nil, false
}

// embedScript is /embed.js: a widget without framework that shows the
// page's status and active incidents in the host page, in a shadow root
// (the host's styles neither reach it nor are touched), refreshed when the
// page's event stream says it changed and every minute besides. User
// text is set as text, never as HTML.
const embedScript = `(function () {
  "use strict";
  var root = %s, script = document.currentScript;
  var host = document.createElement("div");
  host.className = "stormwatch-widget";
  script.parentNode.insertBefore(host, script.nextSibling);
  var shadow = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  var colors = {none: "#1a7f37", minor: "#9a6700", major: "#bc4c00", critical: "#cf222e", maintenance: "#0969da"};
  var style = document.createElement("style");
  style.textContent = ".w{font:14px/1.4 system-ui,sans-serif;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;display:inline-block;max-width:28em;color:#1f2328;background:#fff}" +
    ".d{display:inline-block;width:10px;height:10px;border-radius:50%%;margin-right:6px}a{color:inherit}ul{margin:6px 0 0;padding-left:18px}";
  shadow.appendChild(style);
  var box = document.createElement("div");
  box.className = "w";
  shadow.appendChild(box);
  function el(tag, text) { var e = document.createElement(tag); if (text) e.textContent = text; return e; }
  function render(s) {
    box.textContent = "";
    var head = el("div"), dot = el("span"), link = el("a", s.status.description);
    dot.className = "d";
    dot.style.background = colors[s.status.indicator] || "#57606a";
    link.href = root + "/";
    link.target = "_blank";
    link.rel = "noopener";
    head.appendChild(dot);
    head.appendChild(link);
    box.appendChild(head);
    box.setAttribute("data-indicator", s.status.indicator);
    var list = el("ul");
    (s.incidents || []).forEach(function (i) {
      var li = el("li"), a = el("a", i.name);
      a.href = root + "/incidents/" + encodeURIComponent(i.id);
      a.target = "_blank";
      a.rel = "noopener";
      li.appendChild(a);
      li.appendChild(el("span", " — " + i.status));
      list.appendChild(li);
    });
    if (list.childNodes.length) box.appendChild(list);
  }
  // The revision and the minute in the URL: a new revision is a new URL
  // (no stale copy from the browser's or a CDN's cache), the same one
  // within a minute is a cache hit.
  var rev = 0;
  function load() {
    var url = root + "/api/v2/summary.json?rev=" + rev + "&m=" + Math.floor(Date.now() / 60000);
    fetch(url, {credentials: "omit"}).then(function (r) { return r.json(); }).then(render, function () {});
  }
  load();
  setInterval(load, 60000);
  if (window.EventSource) {
    var es = new EventSource(root + "/events");
    es.addEventListener("revision", function (e) {
      try { rev = JSON.parse(e.data).revision; } catch (x) { rev = Date.now(); }
      load();
    });
  }
})();
`

// renderEmbedJS bakes the page's root URL into the widget.
func renderEmbedJS(site Site) []byte {
	root, _ := json.Marshal(site.RootURL)
	return fmt.Appendf(nil, embedScript, root)
}
