package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/ratelimit"
	"github.com/stormwatch/stormwatch/internal/store"
)

// subscriptions serves a page's /subscribe form and the /subscriptions/…
// links of its mails: confirm (double opt-in), manage, and unsubscribe
// (one click, RFC 8058).
type subscriptions struct {
	store *store.Store
	links notify.Links
	guard *notify.Guard
	// perIP limits subscribe attempts per client address.
	perIP   *ratelimit.Window
	clients ratelimit.Clients
	now     func() time.Time
}

//go:embed templates/subscribe.html
var subscribeFS embed.FS

var subscribeTmpl = template.Must(template.New("subscribe.html").ParseFS(subscribeFS, "templates/subscribe.html"))

type subscribeView struct {
	// L speaks the reader's language.
	L                          *locale.Locale
	PageName, BrandColor, Root string
	// View picks the screen: form, sent, confirmed, manage, saved,
	// unsubscribe, unsubscribed, invalid.
	View       string
	Error      string
	Email, URL string
	Secret     string
	Components []componentChoice
	Action     string
	// Email and URLKinds say what the form offers: an address, and the
	// kinds of URL (webhook and the chat tools the workspace enables).
	OffersEmail bool
	URLKinds    []string
	Kind        string // the kind of URL subscribed
}

// kindNames are the public form's words for the kinds of URL.
var kindNames = map[string]string{sw.SubscriberWebhook: "Webhook (signed JSON)", sw.SubscriberSlack: "Slack incoming webhook",
	sw.SubscriberDiscord: "Discord webhook", sw.SubscriberTeams: "Microsoft Teams workflow webhook",
	sw.SubscriberMattermost: "Mattermost incoming webhook", sw.SubscriberRocketChat: "Rocket.Chat incoming webhook"}

// KindName is a kind of URL in words.
func (v *subscribeView) KindName(kind string) string { return v.L.T(kindNames[kind]) }

type componentChoice struct {
	Slug, Name string
	Checked    bool
}

func (s *subscriptions) handle(w http.ResponseWriter, r *http.Request, ws string, site page.Site, path string, lang *locale.Locale) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	wsp, err := s.store.Workspace(r.Context(), ws)
	if err != nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	v := &subscribeView{L: lang, PageName: wsp.PageName(), BrandColor: wsp.Branding.BrandColor, Root: site.RootURL, OffersEmail: wsp.Offers(sw.SubscriberEmail)}
	for _, k := range wsp.SubscribeChannels {
		if k != sw.SubscriberEmail {
			v.URLKinds = append(v.URLKinds, k)
		}
	}
	status := http.StatusOK
	switch {
	case path == "/subscribe" && r.Method == http.MethodGet:
		v.View = "form"
		v.Components, err = s.choices(r.Context(), ws, nil)
	case path == "/subscribe" && r.Method == http.MethodPost:
		status, err = s.subscribe(r, wsp, site, v)
	case path == "/subscriptions/confirm" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		status, err = s.confirm(r, ws, v)
	case path == "/subscriptions/manage":
		status, err = s.manage(r, ws, v)
	case path == "/subscriptions/unsubscribe":
		status, err = s.unsubscribe(w, r, ws, v)
		if status == 0 {
			return // one-click answered already
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		if r.Context().Err() == nil {
			http.Error(w, "subscriptions are temporarily unavailable", http.StatusServiceUnavailable)
		}
		return
	}
	w.Header().Set("Content-Type", page.TypeHTML)
	w.WriteHeader(status)
	_ = subscribeTmpl.Execute(w, v) // a failed write means the client left
}

// choices lists the workspace's components, checked as in picked (nil:
// none checked, which means all).
func (s *subscriptions) choices(ctx context.Context, ws string, picked []string) ([]componentChoice, error) {
	comps, _, err := s.store.Components(ctx, ws, store.Page{Limit: 200})
	if err != nil {
		return nil, err
	}
	out := make([]componentChoice, len(comps))
	for i, c := range comps {
		out[i] = componentChoice{Slug: c.Slug, Name: c.Name}
		for _, p := range picked {
			if p == c.Slug {
				out[i].Checked = true
			}
		}
	}
	return out, nil
}

// subscribe takes the public form: an email address (sent the double
// opt-in mail) or a webhook URL, for all or the ticked components. The
// answer is the same whether or not the address was known, so the form
// tells nobody who subscribes.
func (s *subscriptions) subscribe(r *http.Request, wsp *sw.Workspace, site page.Site, v *subscribeView) (int, error) {
	ws := wsp.ID
	v.View = "form"
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		v.Error = v.L.T("The form could not be read.")
		return http.StatusBadRequest, nil
	}
	picked := r.PostForm["component"]
	var err error
	if v.Components, err = s.choices(r.Context(), ws, picked); err != nil {
		return 0, err
	}
	v.Email, v.URL = strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("url"))
	if !s.perIP.Allow(ws+"|"+s.clients.Addr(r), s.now()) {
		v.Error = v.L.T("Too many subscription requests from your address. Try again in an hour.")
		return http.StatusTooManyRequests, nil
	}
	sub := &sw.Subscriber{WorkspaceID: ws, MinImpact: sw.ImpactNone, PageRoot: site.RootURL, Language: v.L.Code}
	secret := ""
	switch {
	case v.Email != "" && v.URL == "" && wsp.Offers(sw.SubscriberEmail):
		addr, err := sw.CheckEmail("email", v.Email)
		if err != nil {
			v.Error = v.L.T("Enter one email address, such as ops@example.com.")
			return http.StatusUnprocessableEntity, nil
		}
		sub.Type, sub.Email = sw.SubscriberEmail, addr
	case v.URL != "" && v.Email == "":
		kind := r.PostForm.Get("kind")
		if kind == "" {
			kind = sw.SubscriberWebhook
		}
		if kind == sw.SubscriberEmail || !wsp.Offers(kind) {
			v.Error = v.L.T("This page does not offer that kind of subscription.")
			return http.StatusUnprocessableEntity, nil
		}
		if err := s.guard.CheckURL(r.Context(), v.URL); err != nil {
			v.Error = v.L.T("That URL cannot be used: %s", err.Error())
			return http.StatusUnprocessableEntity, nil
		}
		now := s.now().UTC()
		if kind == sw.SubscriberWebhook {
			secret = notify.NewWebhookSecret()
		}
		sub.Type, sub.URL, sub.ConfirmedAt = kind, v.URL, &now
		v.Kind = kind
	default:
		v.Error = v.L.T("Enter an email address or a URL.")
		return http.StatusUnprocessableEntity, nil
	}
	err = s.store.Tx(r.Context(), func(tx *store.Tx) error {
		err := tx.CreateSubscriber(r.Context(), sub, secret, picked)
		if !errors.Is(err, store.ErrConflict) || sub.Type != sw.SubscriberEmail {
			return err
		}
		// Known address: if it never confirmed, send the link again (at
		// most every few minutes); otherwise say nothing.
		old, err := tx.SubscriberByEmail(r.Context(), ws, sub.Email)
		if err != nil || old.ConfirmedAt != nil {
			return err
		}
		if err := tx.SendConfirmation(r.Context(), old); err != nil && !errors.Is(err, store.ErrTooSoon) {
			return err
		}
		return nil
	})
	var verr *sw.ValidationError
	switch {
	case errors.As(err, &verr):
		v.Error = v.L.T("Pick components of this page only.")
		return http.StatusUnprocessableEntity, nil
	case errors.Is(err, store.ErrConflict):
		// A webhook URL subscribed already: same answer as a new one.
	case err != nil:
		return 0, err
	}
	v.View = "sent"
	if sw.ChatWebhook(sub.Type) {
		v.View = "chat"
	}
	if sub.Type == sw.SubscriberWebhook {
		// The signing secret is shown this once (a URL subscribed already
		// keeps its own, unseen).
		v.View, v.Secret = "webhook", secret
		if errors.Is(err, store.ErrConflict) {
			v.Secret = ""
		}
	}
	return http.StatusOK, nil
}

// confirm shows (GET) a page with a button, and confirms (POST): mail
// security scanners follow links in mails, so a GET must not subscribe
// anyone.
func (s *subscriptions) confirm(r *http.Request, ws string, v *subscribeView) (int, error) {
	id, ok := s.links.Check("confirm", r.URL.Query(), s.now())
	if !ok {
		v.View = "invalid"
		return http.StatusForbidden, nil
	}
	if r.Method != http.MethodPost {
		v.View, v.Action = "confirm", r.URL.RequestURI()
		return http.StatusOK, nil
	}
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error { return tx.ConfirmSubscriber(r.Context(), ws, id) })
	if errors.Is(err, store.ErrNotFound) {
		v.View = "invalid"
		return http.StatusNotFound, nil
	}
	if err != nil {
		return 0, err
	}
	v.View, v.Action = "confirmed", s.links.Manage(v.Root, id)
	return http.StatusOK, nil
}

// manage shows (GET) and saves (POST) which components a subscriber
// follows; the signed link is the permission.
func (s *subscriptions) manage(r *http.Request, ws string, v *subscribeView) (int, error) {
	id, ok := s.links.Check("manage", r.URL.Query(), s.now())
	if !ok {
		v.View = "invalid"
		return http.StatusForbidden, nil
	}
	sub, err := s.store.Subscriber(r.Context(), ws, id)
	if errors.Is(err, store.ErrNotFound) {
		v.View = "invalid"
		return http.StatusNotFound, nil
	}
	if err != nil {
		return 0, err
	}
	v.View, v.Email, v.URL, v.Action = "manage", sub.Email, sub.URL, r.URL.RequestURI()
	picked := sub.Components
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			v.Error = v.L.T("The form could not be read.")
			return http.StatusBadRequest, nil
		}
		picked = r.PostForm["component"]
		if picked == nil {
			picked = []string{}
		}
		err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
			_, err := tx.EditSubscriber(r.Context(), ws, id, store.SubscriberEdit{Components: &picked})
			return err
		})
		var verr *sw.ValidationError
		if errors.As(err, &verr) {
			v.Error = v.L.T("Pick components of this page only.")
			return http.StatusUnprocessableEntity, nil
		}
		if err != nil {
			return 0, err
		}
		v.View = "saved"
	}
	v.Components, err = s.choices(r.Context(), ws, picked)
	return http.StatusOK, err
}

// unsubscribe: GET shows a button (link scanners in mail systems follow
// GETs, which must not unsubscribe); POST removes the subscriber, and a
// mail client's RFC 8058 one-click POST gets a bare 200.
func (s *subscriptions) unsubscribe(w http.ResponseWriter, r *http.Request, ws string, v *subscribeView) (int, error) {
	id, ok := s.links.Check("unsubscribe", r.URL.Query(), s.now())
	if !ok {
		v.View = "invalid"
		return http.StatusForbidden, nil
	}
	if r.Method != http.MethodPost {
		v.View, v.Action = "unsubscribe", r.URL.RequestURI()
		return http.StatusOK, nil
	}
	err := s.store.Tx(r.Context(), func(tx *store.Tx) error {
		err := tx.DeleteSubscriber(r.Context(), ws, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil // unsubscribed already
		}
		if err != nil {
			return err
		}
		return tx.Audit(r.Context(), ws, &sw.AuditEntry{Actor: sw.Actor{Type: sw.ActorSystem, ID: "subscriber", Name: "the subscriber"},
			Action: "subscriber.unsubscribe", TargetType: "subscriber", TargetID: id})
	})
	if err != nil {
		return 0, err
	}
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" && r.FormValue("List-Unsubscribe") == "One-Click" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("unsubscribed\n"))
		return 0, nil
	}
	v.View = "unsubscribed"
	return http.StatusOK, nil
}
