package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/live"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/store"
	"golang.org/x/sync/singleflight"
)

// PageStore is what the public pages read.
type PageStore interface {
	Readiness
	Workspace(ctx context.Context, id string) (*sw.Workspace, error)
	WorkspaceBySlug(ctx context.Context, slug string) (*sw.Workspace, error)
	WorkspaceIDByDomain(ctx context.Context, hostname string) (string, error)
	Snapshot(ctx context.Context, ws string, since, now time.Time) (*sw.Snapshot, error)
	Asset(ctx context.Context, ws, id string) (*store.Asset, error)
	// PageInviteFor finds an address invited to a private page.
	PageInviteFor(ctx context.Context, ws, address string) (*sw.PageInvite, error)
}

// historyWindow is how far back a page looks: the 90 days of the uptime
// bars plus a day of slack for time zones.
const historyWindow = 91 * 24 * time.Hour

// maxAge is how long a page rendered at a revision is served before it is
// rendered again anyway, so that time-dependent parts (today's uptime, the
// recently-resolved list) move on without a change.
const maxAge = time.Minute

// file is one rendered resource, with its precompressed forms and the
// response headers of each, built once so that serving one allocates
// nothing.
type file struct {
	contentType string
	body        []byte
	gzip        []byte
	brotli      []byte
	etag        string

	identityHeader, gzipHeader, brotliHeader, notModifiedHeader http.Header
}

// rendering is everything served for one workspace at one page root and
// one revision, in each variant asked for.
type rendering struct {
	rev   int64
	built time.Time
	snap  *sw.Snapshot
	site  page.Site
	mu    sync.Mutex
	files map[fileKey]*file
	// public is snap as readers without access see it (made on first
	// use); restricted says whether the page has anything to hide.
	public     *sw.Snapshot
	restricted bool
}

// variant is one way of serving a page: in a language (chosen with
// ?lang= or not), with or without its private parts.
type variant struct {
	lang     *locale.Locale
	explicit bool
	// full includes private components: the reader has access.
	full bool
}

type fileKey struct {
	path string
	variant
}

type cacheKey struct{ ws, root string }

// pageCache renders each page at most once per revision (and per maxAge)
// and keeps the bytes in memory.
type pageCache struct {
	store PageStore
	hub   *live.Hub
	now   func() time.Time

	mu      sync.RWMutex
	entries map[cacheKey]*rendering
	flight  singleflight.Group
}

func newPageCache(st PageStore, hub *live.Hub, now func() time.Time) *pageCache {
	return &pageCache{store: st, hub: hub, now: now, entries: map[cacheKey]*rendering{}}
}

// revision returns ws's current revision, asking the database the first
// time and the hub (kept fresh by commits and polls) afterwards.
func (c *pageCache) revision(ctx context.Context, ws string) (int64, error) {
	if rev, ok := c.hub.Revision(ws); ok {
		return rev, nil
	}
	w, err := c.store.Workspace(ctx, ws)
	if err != nil {
		return 0, err
	}
	c.hub.Publish(ws, w.Revision)
	rev, _ := c.hub.Revision(ws)
	return rev, nil
}

// staleWait is how long a reader waits for the rendering of a new
// revision before it is given the previous one (see rendering).
const staleWait = 100 * time.Millisecond

// rendering returns the current rendering of ws at site, building it when
// the revision moved or it grew old. Concurrent callers share one build.
// A caller that does not need the newest revision (minRev: live pages name
// the revision they were told of) waits for it at most staleWait and then
// gets the previous rendering: in a storm of changes, on a busy machine,
// readers do not queue behind renders, and the page is at most a render
// behind.
func (c *pageCache) rendering(ctx context.Context, ws string, site page.Site, minRev int64) (*rendering, error) {
	rev, err := c.revision(ctx, ws)
	if err != nil {
		return nil, err
	}
	key := cacheKey{ws, site.RootURL}
	c.mu.RLock()
	r := c.entries[key]
	c.mu.RUnlock()
	now := c.now()
	if r != nil && r.rev >= rev && now.Sub(r.built) < maxAge {
		return r, nil
	}
	build := func() (any, error) {
		built := c.now()
		// The build is shared: one caller leaving must not fail the others.
		snap, err := c.store.Snapshot(context.WithoutCancel(ctx), ws, built.Add(-historyWindow), built)
		if err != nil {
			return nil, err
		}
		nr := &rendering{rev: snap.Workspace.Revision, built: built, snap: snap, site: site, files: map[fileKey]*file{},
			restricted: snap.Workspace.Access.Restricted(snap.Components)}
		c.mu.Lock()
		if old := c.entries[key]; old == nil || old.rev <= nr.rev {
			c.entries[key] = nr
		}
		c.mu.Unlock()
		return nr, nil
	}
	done := c.flight.DoChan(fmt.Sprintf("%s|%s|%d", ws, site.RootURL, rev), build)
	var stale <-chan time.Time
	if r != nil && r.rev >= minRev && now.Sub(r.built) < 2*maxAge {
		t := time.NewTimer(staleWait)
		defer t.Stop()
		stale = t.C
	}
	select {
	case res := <-done:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*rendering), nil
	case <-stale:
		return r, nil // the build goes on; its result lands in the cache
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// file returns the rendered resource at path in variant v, rendering and
// compressing it on first use.
func (r *rendering) file(path string, v variant) (*file, error) {
	if !page.Localized(path) {
		v.lang, v.explicit = nil, false // one copy for every language
	}
	if !r.restricted {
		v.full = false // nothing to hide: one copy for everyone
	}
	key := fileKey{path, v}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.files[key]; ok {
		return f, nil
	}
	snap, site := r.snap, r.site
	if !v.full {
		if r.public == nil {
			r.public = page.PublicView(r.snap)
		}
		snap = r.public
	}
	site.Lang, site.Explicit, site.NoIndex = v.lang, v.explicit, r.snap.Workspace.Access.Private
	res, err := page.Render(snap, site, path)
	if errors.Is(err, page.ErrNotFound) {
		// Remember misses of the fixed paths only; arbitrary ids would
		// let anyone grow the cache.
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	f, err := newFile(res, page.Localized(path), r.restricted, r.snap.Workspace.Access.Private)
	if err != nil {
		return nil, err
	}
	key.path = strings.Clone(path) // path may be a view of a request's buffer
	r.files[key] = f
	return f, nil
}

// Compressors are reused: a new brotli writer allocates megabytes of hash
// tables, and a storm of page changes compresses every page anew.
var (
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression); return w }}
	// Quality 6, not 9: measured on the benchmark page, 9 keeps 34 MB of
	// hash tables per writer and takes 8x the time for 0.7 % fewer bytes
	// (3,672 against 3,696 B of 17 KB); 6 keeps 2.4 MB.
	brotliWriters = sync.Pool{New: func() any { return brotli.NewWriterOptions(nil, brotli.WriterOptions{Quality: 6, LGWin: 20}) }}
)

// newFile prepares res in every encoding. A localized resource varies
// with Accept-Language too; a restricted page's resources (private, or
// with private components) are for the reader's browser only, never a
// shared cache; a private page's are kept out of search engines.
func newFile(res *page.Resource, localized, restricted, private bool) (*file, error) {
	sum := sha256.Sum256(res.Body)
	f := &file{contentType: res.ContentType, body: res.Body, etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`}
	var gz bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&gz)
	if _, err := zw.Write(res.Body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	f.gzip = gz.Bytes()
	var br bytes.Buffer
	bw := brotliWriters.Get().(*brotli.Writer)
	defer brotliWriters.Put(bw)
	bw.Reset(&br)
	if _, err := bw.Write(res.Body); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	f.brotli = br.Bytes()
	cc, vary := cacheControl, "Accept-Encoding"
	if localized {
		vary = "Accept-Encoding, Accept-Language"
	}
	if restricted {
		cc = privateCacheControl
	}
	// A 304 carries only what a cache needs to refresh its copy.
	f.notModifiedHeader = http.Header{"Etag": {f.etag}, "Cache-Control": {cc}, "Vary": {vary}}
	f.identityHeader = f.header("", f.body, cc, vary)
	f.gzipHeader = f.header("gzip", f.gzip, cc, vary)
	f.brotliHeader = f.header("br", f.brotli, cc, vary)
	if private {
		for _, h := range []http.Header{f.notModifiedHeader, f.identityHeader, f.gzipHeader, f.brotliHeader} {
			h["X-Robots-Tag"] = []string{"noindex"}
		}
	}
	return f, nil
}

// cacheControl lets browsers and CDNs keep a page a few seconds, and serve
// it stale while they fetch the next one or when the origin fails.
const cacheControl = "public, max-age=5, stale-while-revalidate=30, stale-if-error=86400"

// privateCacheControl keeps a page with private parts out of shared
// caches: what one reader may see, the next may not.
const privateCacheControl = "private, max-age=5"

// header builds the response headers of one encoding of f (body nil for a
// 304). Keys are in canonical form, as http.Header stores them.
func (f *file) header(encoding string, body []byte, cacheControl, vary string) http.Header {
	h := http.Header{
		"Content-Type":           {f.contentType},
		"Etag":                   {f.etag},
		"Cache-Control":          {cacheControl},
		"Vary":                   {vary},
		"X-Content-Type-Options": {"nosniff"},
	}
	if f.contentType == page.TypeHTML {
		h["Referrer-Policy"] = []string{"strict-origin-when-cross-origin"}
	} else {
		// Methods and max-age matter only to preflights (setCORS).
		h["Access-Control-Allow-Origin"] = []string{"*"}
	}
	if encoding != "" {
		h["Content-Encoding"] = []string{encoding}
	}
	if body != nil {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	return h
}
