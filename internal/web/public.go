package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
)

// public serves workspaces' status pages at /s/{slug}/ on the main host,
// at the root of {slug}.<pages domain>, and at the root of verified custom
// domains.
type public struct {
	log         *slog.Logger
	store       PageStore
	hub         *live.Hub
	cache       *pageCache
	base        *url.URL
	baseRoot    string // base URL without a trailing slash
	baseHost    string // the main host's name
	pagesDomain string
	streams     context.Context // ends when the server shuts down
	subs        *subscriptions  // nil: no subscription pages
	access      *pageAccess
	langs       languages
	clients     ratelimit.Clients
	streamLimit *streamLimit

	slugs   sync.Map // slug -> workspace id
	domains sync.Map // hostname -> domainEntry
	// sites holds the page.Site of each host (own-host pages) and of each
	// /s/{slug} prefix, built once: only hosts and slugs that resolved to
	// a workspace get one, so it is bounded.
	hostSites, prefixSites sync.Map
	// domainEntries bounds the domain cache: any Host header reaches it.
	domainEntries atomic.Int64
}

// maxDomainEntries caps the custom-domain cache; past it, the cache is
// emptied and refills with the hosts actually in use.
const maxDomainEntries = 10_000

type domainEntry struct {
	ws      string
	checked time.Time
	// rev is the workspace's page revision when it was looked up: adding,
	// verifying or removing a domain moves it, so the entry is stale at
	// once (on every replica, through the revision hub).
	rev int64
}

// How long a custom domain lookup is trusted: a hit while its
// workspace's revision stands still, a miss (an unknown or unverified
// name, which a new verification may change) a second.
const (
	domainTTL     = 10 * time.Second
	domainMissTTL = time.Second
)

// hostname returns host without its port, lower-cased. It allocates
// nothing for a host that is lower-case already: it runs on every
// request.
func hostname(hostport string) string {
	h := hostport
	switch i := strings.LastIndexByte(h, ':'); {
	case strings.HasPrefix(h, "["): // [v6]:port or [v6]
		if end := strings.IndexByte(h, ']'); end > 0 {
			h = h[1:end]
		}
	case i >= 0 && strings.IndexByte(h, ':') == i: // name:port, v4:port
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

// route decides whether a request is for a workspace's page at the root of
// its own host. It returns the workspace id and the site, or ok false for
// the main host.
func (p *public) route(r *http.Request) (ws string, site page.Site, ok bool, err error) {
	return p.routeHost(r.Context(), r.Host)
}

// routeHost is route for a Host header.
func (p *public) routeHost(ctx context.Context, hostport string) (ws string, site page.Site, ok bool, err error) {
	host := hostname(hostport)
	if slug, found := strings.CutSuffix(host, "."+p.pagesDomain); found && !strings.Contains(slug, ".") {
		ws, err := p.workspaceBySlug(ctx, slug)
		if err != nil {
			return "", page.Site{}, true, err
		}
		return ws, p.hostSite(host), true, nil
	}
	if host == p.baseHost || host == "" {
		return "", page.Site{}, false, nil
	}
	ws, err = p.workspaceByDomain(ctx, host)
	if errors.Is(err, store.ErrNotFound) {
		return "", page.Site{}, false, nil
	}
	if err != nil {
		return "", page.Site{}, true, err
	}
	return ws, p.hostSite(host), true, nil
}

// hostSite is the site at the root of host, made once per host.
func (p *public) hostSite(host string) page.Site {
	if s, ok := p.hostSites.Load(host); ok {
		return s.(page.Site)
	}
	host = strings.Clone(host) // it may be a view of a request's buffer
	s := p.siteAt(host, "")
	p.hostSites.Store(host, s)
	return s
}

// prefixSite is the site of /s/{slug} on the main host, made once per
// slug.
func (p *public) prefixSite(slug string) page.Site {
	if s, ok := p.prefixSites.Load(slug); ok {
		return s.(page.Site)
	}
	slug = strings.Clone(slug)
	s := page.Site{Prefix: "/s/" + slug, RootURL: p.baseRoot + "/s/" + slug, Badge: true}
	p.prefixSites.Store(slug, s)
	return s
}

// siteAt builds the page root at host and prefix. Scheme and port come from
// the configured base URL, never from the request, so that no request can
// make the cache hold variants it invents.
func (p *public) siteAt(host, prefix string) page.Site {
	root := p.base.Scheme + "://" + host
	if port := p.base.Port(); port != "" {
		root += ":" + port
	}
	return page.Site{Prefix: prefix, RootURL: root + prefix, Badge: true}
}

func (p *public) workspaceBySlug(ctx context.Context, slug string) (string, error) {
	if id, ok := p.slugs.Load(slug); ok {
		return id.(string), nil
	}
	if sw.CheckSlug("slug", slug) != nil {
		return "", fmt.Errorf("workspace %q: %w", slug, store.ErrNotFound)
	}
	w, err := p.store.WorkspaceBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	p.slugs.Store(strings.Clone(slug), w.ID) // slugs never change owner
	return w.ID, nil
}

func (p *public) workspaceByDomain(ctx context.Context, host string) (string, error) {
	if v, ok := p.domains.Load(host); ok {
		e := v.(domainEntry)
		if e.ws == "" && time.Since(e.checked) < domainMissTTL {
			return "", store.ErrNotFound
		}
		if rev, _ := p.hub.Revision(e.ws); e.ws != "" && time.Since(e.checked) < domainTTL && rev == e.rev {
			return e.ws, nil
		}
	}
	ws, err := p.store.WorkspaceIDByDomain(ctx, host)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if p.domainEntries.Add(1) > maxDomainEntries {
		p.domains.Clear()
		p.domainEntries.Store(1)
	}
	rev, _ := p.hub.Revision(ws)
	p.domains.Store(strings.Clone(host), domainEntry{ws: ws, checked: time.Now(), rev: rev})
	if ws == "" {
		return "", store.ErrNotFound
	}
	return ws, nil
}

// servePrefixed serves /s/{slug}/… on the main host. It parses the path
// itself: this is the hottest route, and the mux's pattern matching
// allocates.
func (p *public) servePrefixed(w http.ResponseWriter, r *http.Request) {
	slug, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/s/"), "/")
	prefix := r.URL.Path[:len("/s/")+len(slug)]
	rest := r.URL.Path[len(prefix):]
	if rest == "" {
		http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
		return
	}
	ws, err := p.workspaceBySlug(r.Context(), slug)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.serve(w, r, ws, p.prefixSite(slug), rest)
}

// serve answers one path of a workspace's page.
func (p *public) serve(w http.ResponseWriter, r *http.Request, ws string, site page.Site, path string) {
	markQuiet(r)
	if r.Method == http.MethodOptions {
		setCORS(w.Header())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A live page asks for the revision it was told of; others take the
	// freshest rendering there is.
	minRev, _ := strconv.ParseInt(r.Header.Get("X-Stormwatch-Revision"), 10, 64)
	rend, err := p.cache.rendering(r.Context(), ws, site, minRev)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	wsp := &rend.snap.Workspace
	lang, explicit := p.langs.pick(r.URL.RawQuery, r.Header.Get("Accept-Language"), wsp.Language)
	v := variant{lang: lang, explicit: explicit}
	if rend.restricted {
		if path == "/access" || strings.HasPrefix(path, "/access/") {
			p.access.handle(w, r, wsp, site, path, lang)
			return
		}
		v.full = p.access.granted(r, wsp)
		// The links of subscription mails carry their own signature:
		// subscribers of a private page confirm and leave without access.
		if wsp.Access.Private && !v.full && !strings.HasPrefix(path, "/subscriptions/") {
			p.access.refuse(w, r, wsp, site, path, lang)
			return
		}
	}
	if p.subs != nil && (path == "/subscribe" || strings.HasPrefix(path, "/subscriptions/")) {
		p.subs.handle(w, r, ws, site, path, lang)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if path == "/events" {
		p.events(w, r, ws)
		return
	}
	if id, ok := strings.CutPrefix(path, "/assets/"); ok {
		p.asset(w, r, ws, id)
		return
	}
	f, err := rend.file(path, v)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveFile(w, r, f)
}

// asset serves an uploaded logo or favicon. Its URL names its content, so
// it is cached for good; a sandboxing policy keeps an SVG's scripts inert.
func (p *public) asset(w http.ResponseWriter, r *http.Request, ws, id string) {
	a, err := p.store.Asset(r.Context(), ws, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", a.CreatedAt, bytes.NewReader(a.Data))
}

func (p *public) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, page.ErrNotFound):
		http.Error(w, "404 page not found", http.StatusNotFound)
	case r.Context().Err() != nil:
	default:
		p.log.ErrorContext(r.Context(), "public page", "path", r.URL.Path, "err", err, "request_id", RequestID(r.Context()))
		http.Error(w, "the status page is temporarily unavailable", http.StatusServiceUnavailable)
	}
}

func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Max-Age", "86400")
}

func serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	if etagMatch(r.Header.Get("If-None-Match"), f.etag) {
		copyHeader(h, f.notModifiedHeader)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, fh := f.body, f.identityHeader
	switch accepted(r.Header.Get("Accept-Encoding")) {
	case "br":
		body, fh = f.brotli, f.brotliHeader
	case "gzip":
		body, fh = f.gzip, f.gzipHeader
	}
	copyHeader(h, fh)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body) // a failed write means the client left
}

// copyHeader shares the prebuilt value slices: net/http only reads them.
func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// etagMatch implements If-None-Match's weak comparison.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == want {
			return true
		}
	}
	return false
}

// accepted picks br, gzip or "" from an Accept-Encoding header, honouring
// q=0 refusals.
func accepted(header string) string {
	if header == "" {
		return ""
	}
	br, gz := false, false
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = true
		case "gzip", "x-gzip":
			gz = true
		}
	}
	switch {
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}
