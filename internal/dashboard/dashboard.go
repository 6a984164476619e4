// Package dashboard serves the operators' web interface under /admin/:
// first-run setup, sign-in, and every screen needed to run a workspace's
// status page without the API. Pages are rendered on the server, every
// action is a plain form post (scripts only add live refresh and
// previews), and each request is checked three times: a signed-in
// session, membership of the workspace in the URL with a role that may do
// the action, and an anti-forgery token on every post.
package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/domains"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Mailer sends the dashboard's own mails: password resets, invitations,
// notices to workspace admins.
type Mailer interface {
	Send(ctx context.Context, m *notify.Mail) error
}

// Deps are what the dashboard is built from.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// BaseURL is the externally visible URL of the main host; links in
	// mails and the agent command are built on it.
	BaseURL string
	// Domains checks custom domains' DNS and names their records; nil
	// shows the records with the base URL's host and offers no check.
	Domains *domains.Checker
	// Key signs anti-forgery tokens; it is the same on every replica.
	Key []byte
	// Mailer is nil when no SMTP server is configured: reset links are
	// then unavailable and invitation links are only shown.
	Mailer   Mailer
	MailFrom string
	// Guard checks webhook URLs imported from CSV.
	Guard *notify.Guard
	// Clients finds a request's client address behind trusted proxies,
	// for the sign-in and reset limits.
	Clients ratelimit.Clients
	// Channels send the test button's sample messages (nil: no test
	// button works).
	Channels map[string]channel.Sender
	// Monitor ends a deleted check's signal (nil: a monitor that records
	// only).
	Monitor *monitor.Monitor
	// AccessKey signs private pages' invitation links (the public pages
	// check them with the same key).
	AccessKey []byte
	// Passwords are argon2id's costs (tests make them cheap).
	Passwords account.Params
	Now       func() time.Time
}

// Dashboard is the /admin/ handler.
type Dashboard struct {
	Deps
	base    *url.URL
	secure  bool
	mux     *http.ServeMux
	pages   map[string]viewFunc
	loginIP *ratelimit.Window
	mailIP  *ratelimit.Window
	csrf    *http.CrossOriginProtection
	actions []Action
	// dummyHash is checked against when an address has no account, so
	// that answers take as long either way; made at the first sign-in,
	// not at every start of every command.
	dummyHash func() string
}

// Action is a post of a workspace's dashboard and the least role it needs.
type Action struct {
	Pattern string
	MinRole sw.Role
}

// Cookie names. The session cookie is scoped to /admin so public pages
// on the same host never see it.
const (
	sessionCookie = "sw_session"
	flashCookie   = "sw_flash"
	cookiePath    = "/admin"
)

// Limits against password guessing: per address (in the database, so
// they hold across replicas) and per client address (per replica).
const (
	maxFailuresPerEmail = 5
	failureWindow       = 15 * time.Minute
	maxLoginsPerIP      = 30
	// maxResetMailsPerAccount caps reset mails to one address per hour,
	// whoever asks and from however many addresses.
	maxResetMailsPerAccount = 3
)

// New returns the dashboard.
func New(d Deps) (*Dashboard, error) {
	base, err := url.Parse(d.BaseURL)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Passwords == (account.Params{}) {
		d.Passwords = account.DefaultParams
	}
	if d.Monitor == nil {
		d.Monitor = monitor.New(nil, d.Log)
	}
	if d.Guard == nil {
		d.Guard = &notify.Guard{}
	}
	if d.Domains == nil {
		d.Domains = &domains.Checker{Target: base.Hostname(), Key: d.Key}
	}
	if len(d.Key) == 0 {
		return nil, errors.New("dashboard: no key for anti-forgery tokens")
	}
	db := &Dashboard{Deps: d, base: base, secure: base.Scheme == "https", mux: http.NewServeMux(), pages: map[string]viewFunc{},
		loginIP: ratelimit.New(maxLoginsPerIP, failureWindow), mailIP: ratelimit.New(10, time.Hour),
		csrf: http.NewCrossOriginProtection()}
	db.dummyHash = sync.OnceValue(func() string { return account.HashPassword("no such account", d.Passwords) })
	db.routes()
	return db, nil
}

// ServeHTTP answers a request under /admin/.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Setup, reset and invitation links carry secrets in the URL: no
	// referrer may leak them, and no page may be framed or cached.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self' 'unsafe-inline'; "+
		"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	if !strings.HasPrefix(r.URL.Path, "/admin/static/") {
		h.Set("Cache-Control", "no-store")
	}
	d.csrf.Handler(d.mux).ServeHTTP(w, r)
}

// Actions lists every post of a workspace's dashboard, for the role tests.
func (d *Dashboard) Actions() []Action { return slices.Clone(d.actions) }

// reqCtx is one request's view of who is asking and where.
type reqCtx struct {
	session *store.Session
	token   string
	user    *sw.User
	ws      *sw.Workspace
	role    sw.Role
	// formErr and form re-render a page with a refused post's input.
	formErr error
	form    url.Values
	// shown is a secret to show once (a token, a key, a link) instead of
	// redirecting after a post.
	shown *shown
	flash string
}

// shown is a secret shown once after it was made.
type shown struct {
	Label, Value, Hint string
}

func (c *reqCtx) actor() sw.Actor {
	return sw.Actor{Type: sw.ActorUser, ID: c.user.ID, Name: c.user.Email}
}

// viewFunc builds the data of a page.
type viewFunc func(r *http.Request, c *reqCtx) (any, error)

// actionFunc does what a post asks and says where to go next (relative
// to the workspace's dashboard, or absolute under /admin/).
type actionFunc func(r *http.Request, c *reqCtx) (string, error)

// userError is an error the person can fix by changing the form.
func userError(err error) bool {
	var verr *sw.ValidationError
	return errors.As(err, &verr) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLastOwner) ||
		errors.Is(err, errRefused)
}

// errRefused marks a message to show to the person as it is.
var errRefused = errors.New("refused")

// refuse returns an error whose message is shown to the person as is.
func refuse(msg string) error { return &refusal{msg} }

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == errRefused }

// session finds the signed-in user of r, if any.
func (d *Dashboard) session(r *http.Request) (*store.Session, string) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, ""
	}
	s, err := d.Store.SessionByToken(r.Context(), ck.Value, d.Now())
	if err != nil {
		return nil, ""
	}
	// Extending the session at most once a minute keeps reads cheap.
	if d.Now().Sub(s.LastSeenAt) > time.Minute {
		if err := d.Store.Tx(r.Context(), func(tx *store.Tx) error { return tx.TouchSession(r.Context(), s) }); err != nil {
			d.Log.WarnContext(r.Context(), "extend session", "err", err)
		}
	}
	return s, ck.Value
}

func (d *Dashboard) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: cookiePath, HttpOnly: true, Secure: d.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(store.SessionLifetime / time.Second)})
}

func (d *Dashboard) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: cookiePath, HttpOnly: true, Secure: d.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func (d *Dashboard) setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: cookiePath, HttpOnly: true,
		Secure: d.secure, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// takeFlash reads and clears the message a redirect carried.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: cookiePath, MaxAge: -1, HttpOnly: true, Secure: d.secure})
	msg, err := url.QueryUnescape(ck.Value)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}

// signedIn wraps a handler that needs a session: without one, a page
// asks to sign in (and comes back), a post is refused.
func (d *Dashboard) signedIn(h func(w http.ResponseWriter, r *http.Request, c *reqCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, token := d.session(r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.renderError(w, r, &reqCtx{}, http.StatusUnauthorized, "Your session has ended. Sign in again, then repeat what you did.")
			return
		}
		c := &reqCtx{session: s, token: token, user: &s.User}
		if r.Method == http.MethodPost {
			if err := d.parseForm(w, r); err != nil {
				d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
				return
			}
			if !account.CheckCSRF(d.Key, token, r.PostFormValue("csrf")) {
				d.renderError(w, r, c, http.StatusForbidden, "This form has expired or did not come from this dashboard. Reload the page and try again.")
				return
			}
		}
		h(w, r, c)
	}
}

// parseForm reads a posted form, multipart (uploads) or not, within size
// limits.
func (d *Dashboard) parseForm(w http.ResponseWriter, r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, 10<<20)
		if err := r.ParseMultipartForm(2 << 20); err != nil {
			return errors.New("the upload is too large or malformed (at most 8 MiB)")
		}
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return errors.New("the form is too large or malformed")
	}
	return nil
}

// inWorkspace wraps a handler that works in the workspace named by the
// URL: the user must be a member with at least role min. Someone who is
// not a member gets the same answer as for a workspace that does not
// exist.
func (d *Dashboard) inWorkspace(min sw.Role, h func(w http.ResponseWriter, r *http.Request, c *reqCtx)) http.HandlerFunc {
	return d.signedIn(func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		ws, err := d.Store.WorkspaceBySlug(r.Context(), r.PathValue("ws"))
		if err == nil {
			c.role, err = d.Store.Role(r.Context(), ws.ID, c.user.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			d.renderError(w, r, c, http.StatusNotFound, "There is no workspace "+r.PathValue("ws")+" that you belong to.")
			return
		}
		if err != nil {
			d.fail(w, r, c, err)
			return
		}
		c.ws = ws
		if !c.role.AtLeast(min) {
			d.renderError(w, r, c, http.StatusForbidden, "Your role in "+ws.Name+" is "+string(c.role)+"; this needs "+string(min)+" or more.")
			return
		}
		h(w, r, c)
	})
}

// page registers a screen of a workspace, viewable from role min.
func (d *Dashboard) page(pattern string, min sw.Role, name string, view viewFunc) {
	d.pages[name] = view
	d.mux.Handle("GET "+pattern, d.inWorkspace(min, func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		d.show(w, r, c, http.StatusOK, name)
	}))
}

// action registers a post in a workspace, allowed from role min. A
// refusal the person can fix shows the page again with the error and the
// input; success redirects (or shows a new secret once).
func (d *Dashboard) action(pattern string, min sw.Role, name string, act actionFunc) {
	d.actions = append(d.actions, Action{pattern, min})
	d.mux.Handle("POST "+pattern, d.inWorkspace(min, func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		next, err := act(r, c)
		switch {
		case err != nil && userError(err):
			c.formErr, c.form = err, r.PostForm
			d.show(w, r, c, http.StatusUnprocessableEntity, name)
		case errors.Is(err, store.ErrNotFound):
			d.renderError(w, r, c, http.StatusNotFound, "That no longer exists: "+err.Error())
		case err != nil:
			d.fail(w, r, c, err)
		case c.shown != nil:
			d.show(w, r, c, http.StatusOK, name)
		default:
			if c.flash != "" {
				d.setFlash(w, c.flash)
			}
			if !strings.HasPrefix(next, "/admin/") {
				next = d.wsPath(c.ws) + next
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
		}
	}))
}

// audited runs fn in a transaction recorded in the workspace's audit log
// as the signed-in user's action.
func (d *Dashboard) audited(r *http.Request, c *reqCtx, action, target string, fn func(tx *store.Tx) (string, any, error)) error {
	return d.Store.Audited(r.Context(), c.ws.ID, c.actor(), action, target, fn)
}

func (d *Dashboard) wsPath(ws *sw.Workspace) string { return "/admin/w/" + ws.Slug }

// show renders the page called name with its view's data.
func (d *Dashboard) show(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, name string) {
	data, err := d.pages[name](r, c)
	if errors.Is(err, store.ErrNotFound) {
		d.renderError(w, r, c, http.StatusNotFound, "Not found: "+err.Error())
		return
	}
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	d.render(w, r, c, status, name, data)
}

// fail answers an unexpected error without its details, which go to the
// log.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	if r.Context().Err() != nil {
		return
	}
	d.Log.ErrorContext(r.Context(), "dashboard", "path", r.URL.Path, "err", err)
	d.renderError(w, r, c, http.StatusInternalServerError, "Something went wrong on our side; it has been logged. Try again in a moment.")
}
