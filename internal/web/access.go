package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/access"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
)

// InviteMailer sends invitation mails.
type InviteMailer interface {
	Send(ctx context.Context, m *notify.Mail) error
}

// pageAccess guards private pages and the private components of public
// ones: it decides who has access, refuses the others (an access form
// for people, a bare 401/403 for programs), takes the password, opens
// invitation links, and mails invited readers a new link.
type pageAccess struct {
	log     *slog.Logger
	store   PageStore
	keys    access.Keys
	mailer  InviteMailer // nil: no mail can be sent
	from    string
	clients ratelimit.Clients
	// tries limits password and link requests per client and page.
	tries  *ratelimit.Window
	secure bool // cookies only over HTTPS
	now    func() time.Time
}

//go:embed templates/access.html
var accessFS embed.FS

var accessTmpl = template.Must(template.New("access.html").ParseFS(accessFS, "templates/access.html"))

type accessView struct {
	L                          *locale.Locale
	PageName, BrandColor, Root string
	Next                       string
	Password, Invites          bool
	Error, Notice              string
}

// granted reports whether r's reader has access to wsp's page.
func (a *pageAccess) granted(r *http.Request, wsp *sw.Workspace) bool {
	if access.FromRanges(wsp, a.clients.Addr(r)) {
		return true
	}
	c, err := r.Cookie(access.CookieName)
	return err == nil && a.keys.CheckCookie(wsp, c.Value, a.now())
}

// refuse answers a reader without access to a private page: people get
// the access form (401), programs a short refusal (403 for JSON, feeds,
// events and badges: nothing there asks for credentials).
func (a *pageAccess) refuse(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, path string, l *locale.Locale) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Vary", "Accept-Language, Cookie")
	if !wantsHTML(path) {
		msg := "this status page is private\n"
		if strings.HasPrefix(path, "/api/") {
			h.Set("Content-Type", "application/json; charset=utf-8")
			msg = `{"error":"this status page is private"}` + "\n"
		} else {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(msg))
		return
	}
	next := site.Prefix + path
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	a.render(w, http.StatusUnauthorized, a.view(wsp, site, l, next))
}

// wantsHTML tells the paths a person opens from those programs fetch.
func wantsHTML(path string) bool {
	switch {
	case strings.HasPrefix(path, "/api/"), strings.HasSuffix(path, ".svg"), strings.HasSuffix(path, ".js"),
		strings.HasSuffix(path, ".xml"), strings.HasSuffix(path, ".rss"), strings.HasSuffix(path, ".atom"),
		path == "/events", strings.HasPrefix(path, "/assets/"):
		return false
	}
	return true
}

func (a *pageAccess) view(wsp *sw.Workspace, site page.Site, l *locale.Locale, next string) *accessView {
	return &accessView{L: l, PageName: wsp.PageName(), BrandColor: wsp.Branding.BrandColor, Root: site.Prefix, Next: next,
		Password: wsp.Access.HasPassword, Invites: a.mailer != nil}
}

func (a *pageAccess) render(w http.ResponseWriter, status int, v *accessView) {
	h := w.Header()
	h.Set("Content-Type", page.TypeHTML)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = accessTmpl.Execute(w, v) // a failed write means the client left
}

// handle serves /access (the password), /access/email (a new link for an
// invited address) and /access/link (an invitation link).
func (a *pageAccess) handle(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, path string, l *locale.Locale) {
	v := a.view(wsp, site, l, site.Prefix+"/")
	switch {
	case path == "/access/link" && r.Method == http.MethodGet:
		a.link(w, r, wsp, site, v)
	case path == "/access" && r.Method == http.MethodPost:
		a.password(w, r, wsp, site, v)
	case path == "/access/email" && r.Method == http.MethodPost:
		a.email(w, r, wsp, site, v)
	case path == "/access" && r.Method == http.MethodGet:
		a.render(w, http.StatusOK, v)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// limited says whether r's client has used up its tries on wsp's page.
func (a *pageAccess) limited(r *http.Request, wsp *sw.Workspace) bool {
	return !a.tries.Allow(wsp.ID+"|"+a.clients.Addr(r), a.now())
}

func (a *pageAccess) password(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, v *accessView) {
	r.Body = http.MaxBytesReader(nil, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		v.Error = v.L.T("The form could not be read.")
		a.render(w, http.StatusBadRequest, v)
		return
	}
	v.Next = a.next(site, r.PostForm.Get("next"))
	if a.limited(r, wsp) {
		v.Error = v.L.T("Too many attempts from your address. Try again in a few minutes.")
		a.render(w, http.StatusTooManyRequests, v)
		return
	}
	ok, err := false, error(nil)
	if wsp.Access.HasPassword {
		ok, err = account.CheckPassword(wsp.Access.PasswordHash, r.PostForm.Get("password"))
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "page password", "workspace", wsp.ID, "err", err)
	}
	if !ok {
		v.Error = v.L.T("Wrong password.")
		a.render(w, http.StatusUnauthorized, v)
		return
	}
	a.admit(w, r, wsp, site, v.Next)
}

// email mails an invited address a new link; the answer is the same
// whether or not the address is invited, so the form tells nobody who is.
func (a *pageAccess) email(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, v *accessView) {
	r.Body = http.MaxBytesReader(nil, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || a.mailer == nil {
		v.Error = v.L.T("The form could not be read.")
		a.render(w, http.StatusBadRequest, v)
		return
	}
	if a.limited(r, wsp) {
		v.Error = v.L.T("Too many attempts from your address. Try again in a few minutes.")
		a.render(w, http.StatusTooManyRequests, v)
		return
	}
	inv, err := a.store.PageInviteFor(r.Context(), wsp.ID, strings.TrimSpace(r.PostForm.Get("email")))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		a.unavailable(w, r, err)
		return
	default:
		mail, err := notify.ComposeInvite(wsp, inv.Email, a.keys.Link(site.RootURL, wsp, inv.Email, a.now()), a.from, v.L.Code)
		if err == nil {
			err = a.mailer.Send(r.Context(), mail)
		}
		if err != nil {
			a.unavailable(w, r, err)
			return
		}
	}
	v.Notice = v.L.T("If this address is invited, a link to the page is on its way. It works for 7 days.")
	a.render(w, http.StatusOK, v)
}

func (a *pageAccess) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "page access", "err", err, "request_id", RequestID(r.Context()))
	http.Error(w, "the status page is temporarily unavailable", http.StatusServiceUnavailable)
}

// link opens an invitation link: valid, unexpired, and its address still
// invited. Opening it changes nothing on the server, so a mail scanner
// following it does no harm.
func (a *pageAccess) link(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, v *accessView) {
	address, ok := a.keys.CheckLink(wsp, r.URL.Query(), a.now())
	if ok {
		_, err := a.store.PageInviteFor(r.Context(), wsp.ID, address)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			a.unavailable(w, r, err)
			return
		}
		ok = err == nil
	}
	if !ok {
		v.Error = v.L.T("It is expired, or was changed on the way.")
		a.render(w, http.StatusForbidden, v)
		return
	}
	a.admit(w, r, wsp, site, site.Prefix+"/")
}

// admit gives the reader the access cookie and sends them on.
func (a *pageAccess) admit(w http.ResponseWriter, r *http.Request, wsp *sw.Workspace, site page.Site, next string) {
	path := site.Prefix
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: access.CookieName, Value: a.keys.Cookie(wsp, a.now()), Path: path,
		MaxAge: int(access.CookieTTL / time.Second), HttpOnly: true, Secure: a.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// next keeps a form's "next" on this page: a path under the page root,
// never another site.
func (a *pageAccess) next(site page.Site, next string) string {
	u, err := url.Parse(next)
	root := site.Prefix + "/"
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, root) || strings.HasPrefix(next, "//") {
		return root
	}
	return u.RequestURI()
}
