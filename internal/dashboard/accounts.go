package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// How long one-time links live.
const (
	setupTTL  = 24 * time.Hour
	resetTTL  = time.Hour
	inviteTTL = 7 * 24 * time.Hour
)

// SetupLink returns the first-run setup URL when nobody has an account
// yet ("" otherwise). Each call makes a fresh link; links made earlier
// stay valid until they expire or one of them is used.
func SetupLink(ctx context.Context, st *store.Store, baseURL string) (string, error) {
	n, err := st.UserCount(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	var token string
	err = st.Tx(ctx, func(tx *store.Tx) error {
		var err error
		token, err = tx.CreateLink(ctx, &store.Link{Kind: store.LinkSetup}, setupTTL)
		return err
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(baseURL, "/") + "/admin/setup?token=" + url.QueryEscape(token), nil
}

// ResetLink makes a password reset link for the account with address
// email, for the command line when no mail can be sent.
func ResetLink(ctx context.Context, st *store.Store, baseURL, email string) (string, error) {
	return resetLink(ctx, st, baseURL, email, 0)
}

// errResetCapped: the address was sent its share of reset mails lately.
var errResetCapped = errors.New("too many reset links for this address lately")

// resetLink is ResetLink refusing, with errResetCapped, an address that
// already got perHour links in the past hour (0: no cap).
func resetLink(ctx context.Context, st *store.Store, baseURL, email string, perHour int) (string, error) {
	a, err := st.AccountByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	var token string
	err = st.Tx(ctx, func(tx *store.Tx) error {
		if perHour > 0 {
			n, err := tx.LinksSince(ctx, store.LinkReset, a.Email, tx.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			if n >= perHour {
				return errResetCapped
			}
		}
		var err error
		token, err = tx.CreateLink(ctx, &store.Link{Kind: store.LinkReset, UserID: a.ID, Email: a.Email}, resetTTL)
		return err
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(baseURL, "/") + "/admin/reset/" + token, nil
}

func (d *Dashboard) link(path string) string { return strings.TrimSuffix(d.BaseURL, "/") + path }

// home lists the user's workspaces: the switcher, and for operators the
// form that makes a new one.
func (d *Dashboard) home(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d.render(w, r, c, http.StatusOK, "home", nil)
}

type setupData struct {
	Token         string
	Done          bool
	Valid         bool
	HasWorkspaces bool
}

func (d *Dashboard) setupData(r *http.Request, token string) (*setupData, error) {
	sd := &setupData{Token: token}
	n, err := d.Store.UserCount(r.Context())
	if err != nil {
		return nil, err
	}
	if n > 0 {
		sd.Done = true
		return sd, nil
	}
	if _, err := d.Store.LinkByToken(r.Context(), store.LinkSetup, token, d.Now()); err == nil {
		sd.Valid = true
	}
	wss, err := d.Store.Workspaces(r.Context())
	if err != nil {
		return nil, err
	}
	sd.HasWorkspaces = len(wss) > 0
	return sd, nil
}

func (d *Dashboard) setupForm(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	sd, err := d.setupData(r, r.URL.Query().Get("token"))
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	d.render(w, r, c, http.StatusOK, "setup", sd)
}

// setup makes the first owner: an operator of the installation, owner of
// every workspace made before there were accounts (with the API or the
// command line), or of a first workspace made here.
func (d *Dashboard) setup(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	if err := d.parseForm(w, r); err != nil {
		d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	f := r.PostForm
	sd, err := d.setupData(r, f.Get("token"))
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	if !sd.Valid {
		d.render(w, r, c, http.StatusForbidden, "setup", sd)
		return
	}
	u := &sw.User{Email: f.Get("email"), Name: strings.TrimSpace(f.Get("name")), Operator: true}
	var first *sw.Workspace
	var token string
	err = newPassword(f, u.Email)
	if err == nil {
		hash := account.HashPassword(f.Get("password"), d.Passwords)
		err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
			link, err := tx.LinkByToken(r.Context(), store.LinkSetup, f.Get("token"), tx.Now())
			if err != nil {
				return refuse("This setup link is no longer valid; restart stormwatch serve for a new one.")
			}
			if n, err := tx.UserCount(r.Context()); err != nil || n > 0 {
				return refuse("Setup is already done; sign in instead.")
			}
			if err := tx.UseLink(r.Context(), link.Hash); err != nil {
				return err
			}
			if err := tx.CreateUser(r.Context(), u, hash); err != nil {
				return err
			}
			wss, err := tx.Workspaces(r.Context())
			if err != nil {
				return err
			}
			if len(wss) == 0 {
				first = &sw.Workspace{Name: strings.TrimSpace(f.Get("workspace")), Slug: strings.TrimSpace(f.Get("slug"))}
				if first.Slug == "" {
					first.Slug = sw.Slugify(first.Name)
				}
				if err := tx.CreateWorkspace(r.Context(), first); err != nil {
					return err
				}
				wss = append(wss, *first)
			} else {
				first = &wss[0]
			}
			for _, ws := range wss {
				if err := tx.AddMember(r.Context(), ws.ID, u.ID, sw.RoleOwner); err != nil {
					return err
				}
				if err := tx.Audit(r.Context(), ws.ID, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorUser, ID: u.ID, Name: u.Email},
					Action: "member.setup", TargetType: "user", TargetID: u.ID}); err != nil {
					return err
				}
			}
			token, err = tx.CreateSession(r.Context(), u.ID, r.UserAgent())
			return err
		})
	}
	if d.refused(w, r, c, err, f, "setup", sd) {
		return
	}
	d.Log.Info("first owner set up", "user", u.Email)
	d.setSession(w, token)
	d.setFlash(w, "Welcome! Add your components next; then connect a node.")
	http.Redirect(w, r, d.wsPath(first)+"/components", http.StatusSeeOther)
}

// localNext keeps a post-sign-in redirect on this dashboard.
func localNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/"
	}
	return next
}

type loginData struct {
	Next      string
	Setup     bool
	CanMail   bool
	Email     string
	Throttled bool
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	if s, _ := d.session(r); s != nil {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	n, err := d.Store.UserCount(r.Context())
	if err != nil {
		d.fail(w, r, &reqCtx{}, err)
		return
	}
	d.render(w, r, &reqCtx{}, http.StatusOK, "login", &loginData{Next: r.URL.Query().Get("next"), Setup: n == 0, CanMail: d.Mailer != nil})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	if err := d.parseForm(w, r); err != nil {
		d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	f := r.PostForm
	ld := &loginData{Next: f.Get("next"), Email: f.Get("email"), CanMail: d.Mailer != nil}
	fail := func(status int, msg string) {
		c.formErr = refuse(msg)
		d.render(w, r, c, status, "login", ld)
	}
	if !d.loginIP.Allow(d.Clients.Addr(r), d.Now()) {
		fail(http.StatusTooManyRequests, "Too many sign-in attempts from your address. Wait 15 minutes.")
		return
	}
	failures, err := d.Store.LoginFailures(r.Context(), ld.Email, d.Now().Add(-failureWindow))
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	if failures >= maxFailuresPerEmail {
		ld.Throttled = true
		fail(http.StatusTooManyRequests, "Too many failed sign-ins for this address. Wait 15 minutes, or reset your password.")
		return
	}
	acct, err := d.Store.AccountByEmail(r.Context(), ld.Email)
	hash := d.dummyHash()
	if err == nil {
		hash = acct.PasswordHash
	} else if !errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, c, err)
		return
	}
	ok, err := account.CheckPassword(hash, f.Get("password"))
	if err != nil {
		d.Log.ErrorContext(r.Context(), "stored password hash", "user", ld.Email, "err", err)
	}
	if !ok || acct == nil {
		if err := d.Store.Tx(r.Context(), func(tx *store.Tx) error { return tx.RecordLoginFailure(r.Context(), ld.Email) }); err != nil {
			d.fail(w, r, c, err)
			return
		}
		fail(http.StatusUnauthorized, "That e-mail address and password do not match an account.")
		return
	}
	var token string
	err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
		if err := tx.ClearLoginFailures(r.Context(), acct.Email); err != nil {
			return err
		}
		if account.NeedsRehash(acct.PasswordHash, d.Passwords) {
			if err := tx.RehashPassword(r.Context(), acct.ID, account.HashPassword(f.Get("password"), d.Passwords)); err != nil {
				return err
			}
		}
		var err error
		token, err = tx.CreateSession(r.Context(), acct.ID, r.UserAgent())
		return err
	})
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	d.setSession(w, token)
	http.Redirect(w, r, localNext(ld.Next), http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := d.Store.Tx(r.Context(), func(tx *store.Tx) error { return tx.DeleteSession(r.Context(), c.session.Hash) }); err != nil {
		d.fail(w, r, c, err)
		return
	}
	d.clearSession(w)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type resetData struct {
	CanMail bool
	Sent    bool
	Token   string
	Valid   bool
	Email   string
}

func (d *Dashboard) resetRequestForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, &reqCtx{}, http.StatusOK, "reset", &resetData{CanMail: d.Mailer != nil})
}

// resetRequest mails a reset link if the address has an account; the
// answer is the same either way, so the form tells nobody who has one.
func (d *Dashboard) resetRequest(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	if err := d.parseForm(w, r); err != nil {
		d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	rd := &resetData{CanMail: d.Mailer != nil, Sent: true}
	if d.Mailer == nil {
		rd.Sent = false
		c.formErr = refuse("This installation has no SMTP server (--smtp-url), so it cannot mail reset links. " +
			"An operator can run: stormwatch user reset-link --email you@example.com")
		d.render(w, r, c, http.StatusServiceUnavailable, "reset", rd)
		return
	}
	if !d.mailIP.Allow(d.Clients.Addr(r), d.Now()) {
		c.formErr = refuse("Too many reset requests from your address. Wait an hour.")
		d.render(w, r, c, http.StatusTooManyRequests, "reset", &resetData{CanMail: true})
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	// Whatever happens next, the answer is the same: known or unknown
	// address, capped or not, mail sent or not (a failure is logged for
	// the operator), so that the form tells nobody who has an account.
	link, err := resetLink(r.Context(), d.Store, d.BaseURL, email, maxResetMailsPerAccount)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case errors.Is(err, errResetCapped):
		d.Log.WarnContext(r.Context(), "password reset mail not sent: hourly cap of the address reached", "to", email)
	case err != nil:
		d.fail(w, r, c, err)
		return
	default:
		err := d.Mailer.Send(r.Context(), d.accountMail(email, "Reset your stormwatch password",
			"Someone (we hope you) asked to reset the password of your stormwatch account.",
			"Choose a new password", link, "The link works once, for an hour. If you did not ask, ignore this mail: your password stays as it is."))
		if err != nil {
			d.Log.ErrorContext(r.Context(), "send password reset mail", "to", email, "err", err)
		}
	}
	d.render(w, r, c, http.StatusOK, "reset", rd)
}

func (d *Dashboard) resetForm(w http.ResponseWriter, r *http.Request) {
	rd := &resetData{Token: r.PathValue("token")}
	if l, err := d.Store.LinkByToken(r.Context(), store.LinkReset, rd.Token, d.Now()); err == nil {
		rd.Valid, rd.Email = true, l.Email
	}
	d.render(w, r, &reqCtx{}, http.StatusOK, "resetpassword", rd)
}

// reset sets a new password from a reset link; every other session of
// the account ends.
func (d *Dashboard) reset(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	if err := d.parseForm(w, r); err != nil {
		d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	rd := &resetData{Token: r.PathValue("token")}
	l, err := d.Store.LinkByToken(r.Context(), store.LinkReset, rd.Token, d.Now())
	if err != nil {
		d.render(w, r, c, http.StatusForbidden, "resetpassword", rd)
		return
	}
	rd.Valid, rd.Email = true, l.Email
	f := r.PostForm
	err = newPassword(f, l.Email)
	var token string
	if err == nil {
		hash := account.HashPassword(f.Get("password"), d.Passwords)
		err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
			if err := tx.UseLink(r.Context(), l.Hash); err != nil {
				return refuse("This reset link has been used already.")
			}
			if err := tx.SetPassword(r.Context(), l.UserID, hash, ""); err != nil {
				return err
			}
			if err := tx.ClearLoginFailures(r.Context(), l.Email); err != nil {
				return err
			}
			var err error
			token, err = tx.CreateSession(r.Context(), l.UserID, r.UserAgent())
			return err
		})
	}
	if d.refused(w, r, c, err, nil, "resetpassword", rd) {
		return
	}
	d.setSession(w, token)
	d.setFlash(w, "Your password has been changed; other sessions were signed out.")
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// accountMail composes a plain mail about the reader's account with one
// link to follow.
func (d *Dashboard) accountMail(to, subject, intro, action, link, outro string) *notify.Mail {
	text := fmt.Sprintf("%s\n\n%s:\n%s\n\n%s\n", intro, action, link, outro)
	html := fmt.Sprintf(`<p>%s</p><p><a href="%s">%s</a></p><p style="color:#555">%s</p>`,
		html.EscapeString(intro), html.EscapeString(link), html.EscapeString(action), html.EscapeString(outro))
	host := d.base.Hostname()
	return &notify.Mail{From: d.MailFrom, FromName: "stormwatch", To: to, Subject: subject,
		MessageID: fmt.Sprintf("account.%d@%s", d.Now().UnixNano(), host), Text: text, HTML: html}
}

type inviteData struct {
	Token     string
	Valid     bool
	Workspace *sw.Workspace
	Role      sw.Role
	Email     string
	// HasAccount: the invitee signs in (as Email) to accept; otherwise
	// they choose a name and password here.
	HasAccount bool
	SignedInAs string
}

func (d *Dashboard) inviteData(r *http.Request, token string) (*inviteData, *store.Link, error) {
	id := &inviteData{Token: token}
	l, err := d.Store.LinkByToken(r.Context(), store.LinkInvite, token, d.Now())
	if errors.Is(err, store.ErrNotFound) {
		return id, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	ws, err := d.Store.Workspace(r.Context(), l.WorkspaceID)
	if err != nil {
		return nil, nil, err
	}
	id.Valid, id.Workspace, id.Role, id.Email = true, ws, l.Role, l.Email
	if _, err := d.Store.AccountByEmail(r.Context(), l.Email); err == nil {
		id.HasAccount = true
	}
	if s, _ := d.session(r); s != nil {
		id.SignedInAs = s.User.Email
	}
	return id, l, nil
}

func (d *Dashboard) inviteForm(w http.ResponseWriter, r *http.Request) {
	id, _, err := d.inviteData(r, r.PathValue("token"))
	if err != nil {
		d.fail(w, r, &reqCtx{}, err)
		return
	}
	d.render(w, r, &reqCtx{}, http.StatusOK, "invite", id)
}

// acceptInvite joins the invited workspace: as the signed-in user whose
// address was invited, or as a new account made here for that address.
func (d *Dashboard) acceptInvite(w http.ResponseWriter, r *http.Request) {
	c := &reqCtx{}
	if err := d.parseForm(w, r); err != nil {
		d.renderError(w, r, c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	id, l, err := d.inviteData(r, r.PathValue("token"))
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	if !id.Valid {
		d.render(w, r, c, http.StatusForbidden, "invite", id)
		return
	}
	sess, sessToken := d.session(r)
	f := r.PostForm
	var token string
	switch {
	case id.HasAccount && (sess == nil || !strings.EqualFold(sess.User.Email, l.Email)):
		err = refuse("Sign in as " + l.Email + " first, then open the invitation link again.")
	case id.HasAccount:
		if !account.CheckCSRF(d.Key, sessToken, f.Get("csrf")) {
			err = refuse("This form has expired; reload the page.")
			break
		}
		err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
			return d.join(r, tx, l, &sess.User)
		})
		token = sessToken
	default:
		u := &sw.User{Email: l.Email, Name: strings.TrimSpace(f.Get("name"))}
		err = newPassword(f, u.Email)
		if err == nil {
			hash := account.HashPassword(f.Get("password"), d.Passwords)
			err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
				if err := tx.CreateUser(r.Context(), u, hash); err != nil {
					return err
				}
				if err := d.join(r, tx, l, u); err != nil {
					return err
				}
				var err error
				token, err = tx.CreateSession(r.Context(), u.ID, r.UserAgent())
				return err
			})
		}
	}
	if d.refused(w, r, c, err, f, "invite", id) {
		return
	}
	d.setSession(w, token)
	d.setFlash(w, "You joined "+id.Workspace.Name+" as "+string(id.Role)+".")
	http.Redirect(w, r, d.wsPath(id.Workspace)+"/", http.StatusSeeOther)
}

func (d *Dashboard) join(r *http.Request, tx *store.Tx, l *store.Link, u *sw.User) error {
	if err := tx.UseLink(r.Context(), l.Hash); err != nil {
		return refuse("This invitation has been used already.")
	}
	if err := tx.AddMember(r.Context(), l.WorkspaceID, u.ID, l.Role); err != nil {
		return err
	}
	return tx.Audit(r.Context(), l.WorkspaceID, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorUser, ID: u.ID, Name: u.Email},
		Action: "member.join", TargetType: "user", TargetID: u.ID, Details: []byte(fmt.Sprintf(`{"role":%q,"invited_by":%q}`, l.Role, l.CreatedBy))})
}

func (d *Dashboard) accountPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d.render(w, r, c, http.StatusOK, "account", nil)
}

// updateAccount renames the user or changes the password (which signs
// out every other session).
func (d *Dashboard) updateAccount(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := r.PostForm
	err := d.Store.Tx(r.Context(), func(tx *store.Tx) error {
		if err := tx.UpdateUserName(r.Context(), c.user.ID, strings.TrimSpace(f.Get("name"))); err != nil {
			return err
		}
		if f.Get("password") == "" {
			return nil
		}
		acct, err := tx.AccountByEmail(r.Context(), c.user.Email)
		if err != nil {
			return err
		}
		if ok, _ := account.CheckPassword(acct.PasswordHash, f.Get("current")); !ok {
			return sw.Invalid("current", "is not your current password")
		}
		if err := newPassword(f, acct.Email); err != nil {
			return err
		}
		return tx.SetPassword(r.Context(), c.user.ID, account.HashPassword(f.Get("password"), d.Passwords), c.session.Hash)
	})
	if d.refused(w, r, c, err, f, "account", nil) {
		return
	}
	d.setFlash(w, "Your account is saved.")
	http.Redirect(w, r, "/admin/account", http.StatusSeeOther)
}

// createWorkspace makes a client workspace (operators only) with the
// user as its owner.
func (d *Dashboard) createWorkspace(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if !c.user.Operator {
		d.renderError(w, r, c, http.StatusForbidden, "Only operators of this installation create workspaces.")
		return
	}
	f := r.PostForm
	ws := &sw.Workspace{Name: strings.TrimSpace(f.Get("name")), Slug: strings.TrimSpace(f.Get("slug")), Timezone: strings.TrimSpace(f.Get("timezone"))}
	if ws.Slug == "" {
		ws.Slug = sw.Slugify(ws.Name)
	}
	if ws.Timezone == "" {
		ws.Timezone = "UTC"
	}
	err := ws.CheckSettings()
	if err == nil {
		err = d.Store.Tx(r.Context(), func(tx *store.Tx) error {
			if err := tx.CreateWorkspace(r.Context(), ws); err != nil {
				return err
			}
			if err := tx.AddMember(r.Context(), ws.ID, c.user.ID, sw.RoleOwner); err != nil {
				return err
			}
			return tx.Audit(r.Context(), ws.ID, &sw.AuditEntry{Actor: c.actor(), Action: "workspace.create", TargetType: "workspace", TargetID: ws.ID})
		})
	}
	if d.refused(w, r, c, err, f, "home", nil) {
		return
	}
	d.setFlash(w, "Workspace "+ws.Name+" is ready. Add its components.")
	http.Redirect(w, r, d.wsPath(ws)+"/components", http.StatusSeeOther)
}

// newPassword checks a chosen password and its repetition.
func newPassword(f url.Values, email string) error {
	if err := account.CheckNewPassword(f.Get("password"), email); err != nil {
		return err
	}
	if f.Get("password") != f.Get("password2") {
		return sw.Invalid("password2", "the two passwords differ")
	}
	return nil
}

// refused answers a form post that failed: the page again with the error
// and the input when the person can fix it, else an error page. It
// reports whether there was an error to answer.
func (d *Dashboard) refused(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, form url.Values, page string, data any) bool {
	if err == nil {
		return false
	}
	if !userError(err) {
		d.fail(w, r, c, err)
		return true
	}
	c.formErr, c.form = err, form
	d.render(w, r, c, http.StatusUnprocessableEntity, page, data)
	return true
}
