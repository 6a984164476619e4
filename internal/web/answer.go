package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// PublicAnswer is a public page, JSON document or feed answered from the
// bytes prepared for its revision. Header and Body are shared by every
// request of that revision: read them, never change them.
type PublicAnswer struct {
	Status int
	Header http.Header
	Body   []byte // nil for 304
}

// Answerer answers the hottest requests there are — GETs of public pages,
// Statuspage JSON and feeds — without a net/http request, for a server
// built for that (see internal/front); everything else goes to the
// Handler. Both give the same answers.
type Answerer struct {
	pub *public
	// counters are the request counters of its four answers (GET and
	// HEAD, 200 and 304), made once so that counting costs no lookup.
	counters [2][2]prometheus.Counter
}

func newAnswerer(pub *public, m *metrics) *Answerer {
	a := &Answerer{pub: pub}
	for i, method := range []string{http.MethodGet, http.MethodHead} {
		for j, status := range []string{"200", "304"} {
			a.counters[i][j] = m.requests.WithLabelValues("public", method, status)
		}
	}
	return a
}

func (a *Answerer) count(method string, status int) {
	i, j := 0, 0
	if method == http.MethodHead {
		i = 1
	}
	if status == http.StatusNotModified {
		j = 1
	}
	a.counters[i][j].Inc()
}

// The strings may be views of the calling server's buffers, valid only
// during the call: what Answer keeps (cache keys), it copies.
//
// Answer serves a GET or HEAD of host, path (already decoded) and raw
// query from prepared bytes, in the language of ?lang= or acceptLanguage,
// choosing the encoding from acceptEncoding and
// answering 304 to a matching ifNoneMatch; revision is the
// X-Stormwatch-Revision a live page asks for. ok is false for anything
// it does not answer this way — other methods, other paths, the event
// stream, forms, uploaded assets, redirects, errors — which the Handler
// answers instead.
func (a *Answerer) Answer(ctx context.Context, method, host, path, query, acceptEncoding, acceptLanguage, ifNoneMatch, revision string) (PublicAnswer, bool) {
	if method != http.MethodGet && method != http.MethodHead || !clean(path) || !cleanValues(query) {
		return PublicAnswer{}, false
	}
	ws, site, own, err := a.pub.routeHost(ctx, host)
	if err != nil {
		return PublicAnswer{}, false
	}
	rest := path
	if !own {
		tail, ok := strings.CutPrefix(path, "/s/")
		slug, _, _ := strings.Cut(tail, "/")
		if !ok || slug == "" || len(path) == len("/s/")+len(slug) {
			return PublicAnswer{}, false
		}
		prefix := path[:len("/s/")+len(slug)]
		rest = path[len(prefix):]
		if ws, err = a.pub.workspaceBySlug(ctx, slug); err != nil {
			return PublicAnswer{}, false
		}
		site = a.pub.prefixSite(slug)
	}
	if rest == "/events" || rest == "/subscribe" || strings.HasPrefix(rest, "/subscriptions/") || strings.HasPrefix(rest, "/assets/") {
		return PublicAnswer{}, false
	}
	var minRev int64
	if revision != "" {
		minRev, _ = strconv.ParseInt(revision, 10, 64)
	}
	rend, err := a.pub.cache.rendering(ctx, ws, site, minRev)
	if err != nil {
		return PublicAnswer{}, false
	}
	if rend.restricted {
		return PublicAnswer{}, false // who may read what is the Handler's to decide
	}
	lang, explicit := a.pub.langs.pick(query, acceptLanguage, rend.snap.Workspace.Language)
	f, err := rend.file(rest, variant{lang: lang, explicit: explicit})
	if err != nil {
		return PublicAnswer{}, false
	}
	ans := PublicAnswer{Status: http.StatusOK, Header: f.identityHeader, Body: f.body}
	switch {
	case etagMatch(ifNoneMatch, f.etag):
		ans = PublicAnswer{Status: http.StatusNotModified, Header: f.notModifiedHeader}
	case accepted(acceptEncoding) == "br":
		ans.Header, ans.Body = f.brotliHeader, f.brotli
	case accepted(acceptEncoding) == "gzip":
		ans.Header, ans.Body = f.gzipHeader, f.gzip
	}
	a.count(method, ans.Status)
	return ans, true
}
