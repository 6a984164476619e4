package dashboard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/autotls"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/domains"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/subscription"
)

type subscribersData struct {
	Components  []sw.Component
	Filter      store.SubscriberFilter
	Subscribers []sw.Subscriber
	More        bool
	Offset      int
	Query       string
	ImportLines []subscription.LineError
}

func subscriberFilter(r *http.Request) store.SubscriberFilter {
	q := r.URL.Query()
	f := store.SubscriberFilter{Type: q.Get("type"), State: q.Get("state"), Search: strings.TrimSpace(q.Get("q"))}
	if !sw.ValidSubscriberType(f.Type) {
		f.Type = ""
	}
	if f.State != "pending" && f.State != "active" && f.State != "disabled" {
		f.State = ""
	}
	if len(f.Search) > 200 {
		f.Search = f.Search[:200]
	}
	return f
}

func (d *Dashboard) subscribers(r *http.Request, c *reqCtx) (any, error) {
	sd := &subscribersData{Filter: subscriberFilter(r), Query: r.URL.RawQuery}
	sd.Offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	sd.Offset = max(sd.Offset, 0)
	var err error
	sd.Subscribers, sd.More, err = d.Store.Subscribers(r.Context(), c.ws.ID, sd.Filter, store.Page{Limit: 100, Offset: sd.Offset})
	if err != nil {
		return nil, err
	}
	if sd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	var lines *importRefusal
	if errors.As(c.formErr, &lines) {
		sd.ImportLines = lines.lines
	}
	return sd, nil
}

// NextOffset is the offset of the next page of subscribers.
func (sd *subscribersData) NextOffset() int { return sd.Offset + 100 }

func (d *Dashboard) exportSubscribers(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var buf bytes.Buffer
	if err := subscription.WriteCSV(r.Context(), d.Store, c.ws.ID, subscriberFilter(r), &buf); err != nil {
		d.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-subscribers.csv"`, c.ws.Slug))
	_, _ = w.Write(buf.Bytes())
}

// attackCapture downloads an attack's pcapng.
func (d *Dashboard) attackCapture(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	capture, err := d.Store.Capture(r.Context(), c.ws.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		d.renderError(w, r, c, http.StatusNotFound, "No capture for this attack (yet): the agent uploads it a few seconds after the onset; flow sources keep none.")
		return
	}
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-pcapng")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="attack-%s.pcapng"`, strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, capture.AttackID)))
	_, _ = w.Write(capture.Data)
}

// addSubscriber adds one address (it gets the double opt-in mail unless
// the operator vouches for it) or one webhook (its signing secret shown
// once).
func (d *Dashboard) addSubscriber(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	in := &subscription.Input{Type: f.Get("type"), Components: f["components"], Confirmed: f.Get("confirmed") != "", Format: f.Get("format"),
		Operator: f.Get("operator") != ""}
	target, credential := strings.TrimSpace(f.Get("address")), strings.TrimSpace(f.Get("credential"))
	switch in.Type {
	case sw.SubscriberEmail:
		in.Email = target
	case sw.SubscriberTelegram:
		in.ChatID, in.BotToken = target, credential
	case sw.SubscriberPagerDuty:
		in.RoutingKey = credential
	case sw.SubscriberOpsgenie:
		in.APIKey = credential
	default:
		in.URL = target
	}
	sub, secret, err := subscription.Build(r.Context(), d.Guard, c.ws.ID, in, d.Now())
	if err != nil {
		return "", err
	}
	err = d.audited(r, c, "subscriber.create", "subscriber", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateSubscriber(r.Context(), sub, secret, in.Components)
		return sub.ID, map[string]any{"type": sub.Type, "email": sub.Email, "url": sub.URL, "components": in.Components}, err
	})
	if err != nil {
		return "", err
	}
	if sub.Type == sw.SubscriberWebhook {
		c.shown = &shown{Label: "Signing secret of " + sub.URL, Value: secret,
			Hint: "Shown this once. The receiver verifies each delivery's Standard Webhooks signature (webhook-signature header) with it."}
		return "/subscribers", nil
	}
	if sub.Type != sw.SubscriberEmail {
		c.flash = sub.Type + " subscriber added; use Test to send it a sample message."
		return "/subscribers", nil
	}
	c.flash = sub.Email + " added; "
	if sub.ConfirmedAt == nil {
		c.flash += "they get a mail to confirm."
	} else {
		c.flash += "confirmed."
	}
	return "/subscribers", nil
}

// importRefusal lists the wrong lines of an import that imported nothing.
type importRefusal struct{ lines []subscription.LineError }

func (e *importRefusal) Error() string {
	return fmt.Sprintf("%d line(s) of the file are wrong; nothing was imported. Fix them and upload the file again.", len(e.lines))
}
func (e *importRefusal) Is(target error) bool { return target == errRefused }

// readUpload reads an uploaded file field, at most limit bytes.
func readUpload(r *http.Request, field string, limit int64) ([]byte, *multipart.FileHeader, error) {
	if r.MultipartForm == nil {
		return nil, nil, http.ErrMissingFile
	}
	f, h, err := r.FormFile(field)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, sw.Invalid(field, "is larger than %d KiB", limit>>10)
	}
	return data, h, nil
}

func (d *Dashboard) importSubscribers(r *http.Request, c *reqCtx) (string, error) {
	body, _, err := readUpload(r, "file", 8<<20)
	if errors.Is(err, http.ErrMissingFile) {
		return "", sw.Invalid("file", "choose a CSV file to import")
	}
	if err != nil {
		return "", err
	}
	confirmed := r.PostFormValue("confirmed") != ""
	rows, bad, err := subscription.ParseCSV(r.Context(), d.Guard, c.ws.ID, body, confirmed, d.Now())
	if errors.Is(err, subscription.ErrBadFile) {
		return "", refuse(err.Error())
	}
	if err != nil {
		return "", err
	}
	if len(bad) > 0 {
		return "", &importRefusal{bad}
	}
	var created, skipped int
	err = d.audited(r, c, "subscriber.import", "subscriber", func(tx *store.Tx) (string, any, error) {
		var err error
		created, skipped, err = subscription.Store(r.Context(), tx, rows)
		return "", map[string]any{"created": created, "skipped": skipped, "confirmed": confirmed}, err
	})
	c.flash = fmt.Sprintf("Imported %d subscriber(s); %d were there already.", created, skipped)
	return "/subscribers", err
}

// enableSubscriber turns a subscriber back on after its receiver is fixed.
func (d *Dashboard) enableSubscriber(r *http.Request, c *reqCtx) (string, error) {
	on := true
	err := d.audited(r, c, "subscriber.update", "subscriber", func(tx *store.Tx) (string, any, error) {
		_, err := tx.EditSubscriber(r.Context(), c.ws.ID, r.PathValue("id"), store.SubscriberEdit{Enabled: &on})
		return r.PathValue("id"), map[string]bool{"enabled": true}, err
	})
	c.flash = "Subscriber enabled; it gets the next notification."
	return "/subscribers", err
}

type deliveriesData struct {
	Filter     store.DeliveryFilter
	Deliveries []sw.Delivery
	More       bool
}

func (d *Dashboard) deliveries(r *http.Request, c *reqCtx) (any, error) {
	q := r.URL.Query()
	dd := &deliveriesData{Filter: store.DeliveryFilter{SubscriberID: q.Get("subscriber"), EventID: q.Get("event"), State: q.Get("state")}}
	var err error
	dd.Deliveries, dd.More, err = d.Store.Deliveries(r.Context(), c.ws.ID, dd.Filter, store.Page{Limit: 100})
	return dd, err
}

type deliveryData struct {
	Delivery *sw.Delivery
	Attempts []sw.DeliveryAttempt
}

func (d *Dashboard) delivery(r *http.Request, c *reqCtx) (any, error) {
	del, attempts, err := d.Store.Delivery(r.Context(), c.ws.ID, r.PathValue("id"))
	return &deliveryData{del, attempts}, err
}

// Uploads: at most this big, of these kinds.
const maxImage = 512 << 10

var imageTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
	"image/x-icon": ".ico", "image/vnd.microsoft.icon": ".ico", "image/svg+xml": ".svg"}

// imageType recognises an uploaded image by its bytes, never by its name
// or the browser's word.
func imageType(data []byte) (string, bool) {
	ct := http.DetectContentType(data)
	if strings.HasPrefix(ct, "text/xml") || strings.HasPrefix(ct, "text/plain") {
		head := bytes.ToLower(data[:min(len(data), 1024)])
		if bytes.Contains(head, []byte("<svg")) {
			return "image/svg+xml", true
		}
	}
	_, ok := imageTypes[ct]
	return ct, ok
}

type brandingData struct {
	PageURL string
}

// Root is the page's URL without its final slash, for the embed snippets.
func (b *brandingData) Root() string { return strings.TrimSuffix(b.PageURL, "/") }

func (d *Dashboard) branding(r *http.Request, c *reqCtx) (any, error) {
	return &brandingData{PageURL: d.pageURL(c.ws)}, nil
}

// saveBranding stores the page's look; uploaded images become assets
// served by the page itself.
func (d *Dashboard) saveBranding(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	if r.MultipartForm != nil {
		f = r.MultipartForm.Value
	}
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	err := d.audited(r, c, "workspace.update", "workspace", func(tx *store.Tx) (string, any, error) {
		ws, err := tx.Workspace(r.Context(), c.ws.ID)
		if err != nil {
			return "", nil, err
		}
		b := &ws.Branding
		b.PageTitle, b.BrandColor, b.HideBadge = get("page_title"), get("brand_color"), get("hide_badge") != ""
		b.LogoURL, b.FaviconURL = get("logo_url"), get("favicon_url")
		b.FooterLinks = []sw.FooterLink{}
		for i := range 5 {
			label, link := get(fmt.Sprintf("link_label_%d", i)), get(fmt.Sprintf("link_url_%d", i))
			if label != "" || link != "" {
				b.FooterLinks = append(b.FooterLinks, sw.FooterLink{Label: label, URL: link})
			}
		}
		for field, dst := range map[string]*string{"logo": &b.LogoURL, "favicon": &b.FaviconURL} {
			data, _, err := readUpload(r, field, maxImage)
			if errors.Is(err, http.ErrMissingFile) {
				continue
			}
			if err != nil {
				return "", nil, err
			}
			ct, ok := imageType(data)
			if !ok {
				return "", nil, sw.Invalid(field, "must be a PNG, JPEG, GIF, WebP, ICO or SVG image")
			}
			id, err := tx.PutAsset(r.Context(), ws.ID, ct, imageTypes[ct], data)
			if err != nil {
				return "", nil, err
			}
			*dst = d.link("/s/" + ws.Slug + "/assets/" + id)
		}
		if err := ws.CheckSettings(); err != nil {
			return "", nil, err
		}
		return ws.ID, ws.Branding, tx.UpdateWorkspace(r.Context(), ws)
	})
	c.flash = "Branding saved; the public page shows it now."
	return "/branding", err
}

type domainRow struct {
	store.Domain
	TXTName, TXTValue string
	Certificate       *autotls.Certificate
}

type domainsData struct {
	Domains     []domainRow
	CNAMETarget string
	PageURL     string
	CanCheck    bool
}

func (d *Dashboard) domains(r *http.Request, c *reqCtx) (any, error) {
	dd := &domainsData{CNAMETarget: d.Domains.Target, PageURL: d.pageURL(c.ws), CanCheck: d.Domains.Resolver != nil}
	list, err := d.Store.Domains(r.Context(), c.ws.ID)
	if err != nil {
		return nil, err
	}
	for _, dom := range list {
		row := domainRow{Domain: dom, TXTName: domains.TXTPrefix + dom.Hostname, TXTValue: d.Domains.Token(dom.ID)}
		cert, ok, err := autotls.StoredCertificate(r.Context(), d.Store, dom.Hostname)
		if err != nil {
			return nil, err
		}
		if ok {
			row.Certificate = &cert
		}
		dd.Domains = append(dd.Domains, row)
	}
	return dd, nil
}

// checkDomain looks the domain's DNS up now.
func (d *Dashboard) checkDomain(r *http.Request, c *reqCtx) (string, error) {
	if d.Domains.Resolver == nil {
		return "", refuse("Domain checks are not configured on this server.")
	}
	dom, err := d.Store.Domain(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	res, err := d.Domains.CheckAndRecord(r.Context(), d.Store, dom)
	if err != nil {
		return "", err
	}
	if res.By == "" {
		return "", refuse("Not verified yet: " + res.Problem + ".")
	}
	if !dom.Verified {
		err = d.audited(r, c, "domain.verify", "domain", func(tx *store.Tx) (string, any, error) {
			return dom.ID, map[string]string{"hostname": dom.Hostname, "by": res.By}, nil
		})
	}
	c.flash = dom.Hostname + " is verified; the page is served there and gets its certificate at the first visit."
	return "/domains", err
}

func (d *Dashboard) addDomain(r *http.Request, c *reqCtx) (string, error) {
	host := strings.ToLower(strings.TrimSpace(r.PostFormValue("hostname")))
	err := d.audited(r, c, "domain.create", "domain", func(tx *store.Tx) (string, any, error) {
		dom, err := tx.CreateDomain(r.Context(), c.ws.ID, host)
		if err != nil {
			return "", nil, err
		}
		return dom.ID, map[string]string{"hostname": dom.Hostname}, nil
	})
	c.flash = "Domain " + host + " added. Create the DNS record below."
	return "/domains", err
}

func (d *Dashboard) keys(r *http.Request, c *reqCtx) (any, error) {
	keys, err := all(r.Context(), c.ws.ID, d.Store.APIKeys)
	return keys, err
}

func (d *Dashboard) createKey(r *http.Request, c *reqCtx) (string, error) {
	role := sw.Role(r.PostFormValue("role"))
	if role.Valid() && !c.role.AtLeast(role) {
		return "", refuse("You cannot make a key with a stronger role than your own (" + string(c.role) + ").")
	}
	var token string
	var key *sw.APIKey
	err := d.audited(r, c, "api_key.create", "api_key", func(tx *store.Tx) (string, any, error) {
		var err error
		key, token, err = tx.CreateAPIKey(r.Context(), c.ws.ID, strings.TrimSpace(r.PostFormValue("name")), role)
		if err != nil {
			return "", nil, err
		}
		return key.ID, map[string]any{"name": key.Name, "role": key.Role, "prefix": key.Prefix}, nil
	})
	if err == nil {
		c.shown = &shown{Label: "API key " + key.Name, Value: token, Hint: "Shown this once; store it in your secret manager. Use it as: Authorization: Bearer <key>"}
	}
	return "/keys", err
}

func (d *Dashboard) revokeKey(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "api_key.revoke", "api_key", func(tx *store.Tx) (string, any, error) {
		k, err := tx.APIKey(r.Context(), c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		if !c.role.AtLeast(k.Role) {
			return "", nil, refuse("You cannot revoke a key with a stronger role than your own.")
		}
		return k.ID, nil, tx.RevokeAPIKey(r.Context(), c.ws.ID, k.ID)
	})
	c.flash = "Key revoked."
	return "/keys", err
}

type membersData struct {
	Members     []store.Member
	Invitations []store.Link
	Owners      int
}

func (d *Dashboard) members(r *http.Request, c *reqCtx) (any, error) {
	md := &membersData{}
	var err error
	if md.Members, err = d.Store.Members(r.Context(), c.ws.ID); err != nil {
		return nil, err
	}
	for _, m := range md.Members {
		if m.Role == sw.RoleOwner {
			md.Owners++
		}
	}
	if c.role.AtLeast(sw.RoleAdmin) {
		md.Invitations, err = d.Store.Invitations(r.Context(), c.ws.ID, d.Now())
	}
	return md, err
}

// mayGrant says whether someone with role actor may give or take role
// target: only owners deal with owners.
func mayGrant(actor, target sw.Role) bool {
	return actor == sw.RoleOwner || (actor.AtLeast(sw.RoleAdmin) && target != sw.RoleOwner)
}

func (d *Dashboard) invite(r *http.Request, c *reqCtx) (string, error) {
	email, err := sw.CheckEmail("email", strings.TrimSpace(r.PostFormValue("email")))
	if err != nil {
		return "", err
	}
	role := sw.Role(r.PostFormValue("role"))
	if !role.Valid() {
		return "", sw.Invalid("role", "must be one of owner, admin, editor, viewer")
	}
	if !mayGrant(c.role, role) {
		return "", refuse("Only owners invite owners.")
	}
	var token string
	err = d.audited(r, c, "member.invite", "user", func(tx *store.Tx) (string, any, error) {
		var err error
		token, err = tx.CreateLink(r.Context(), &store.Link{Kind: store.LinkInvite, WorkspaceID: c.ws.ID, Email: email, Role: role,
			CreatedBy: c.user.Email}, inviteTTL)
		return email, map[string]string{"email": email, "role": string(role)}, err
	})
	if err != nil {
		return "", err
	}
	link := d.link("/admin/invite/" + token)
	hint := "This installation sends no mail; pass the link on yourself. It works once, for 7 days."
	if d.Mailer != nil {
		hint = "We mailed it to " + email + ". It works once, for 7 days."
		m := d.accountMail(email, "You are invited to "+c.ws.Name+" on stormwatch",
			c.user.Email+" invites you to help run the status page "+c.ws.Name+" as "+string(role)+".",
			"Accept the invitation", link, "The link works once, for 7 days.")
		if err := d.Mailer.Send(r.Context(), m); err != nil {
			d.Log.WarnContext(r.Context(), "send invitation", "to", email, "err", err)
			hint = "The mail to " + email + " could not be sent (" + err.Error() + "); pass the link on yourself. It works once, for 7 days."
		}
	}
	c.shown = &shown{Label: "Invitation for " + email, Value: link, Hint: hint}
	return "/members", nil
}

func (d *Dashboard) setRole(r *http.Request, c *reqCtx) (string, error) {
	role := sw.Role(r.PostFormValue("role"))
	err := d.audited(r, c, "member.role", "user", func(tx *store.Tx) (string, any, error) {
		old, err := tx.Role(r.Context(), c.ws.ID, r.PathValue("user"))
		if err != nil {
			return "", nil, err
		}
		if !mayGrant(c.role, old) || !mayGrant(c.role, role) {
			return "", nil, refuse("Only owners change owners or make new ones.")
		}
		return r.PathValue("user"), map[string]string{"from": string(old), "to": string(role)}, tx.SetMemberRole(r.Context(), c.ws.ID, r.PathValue("user"), role)
	})
	c.flash = "Role changed."
	return "/members", err
}

func (d *Dashboard) removeMember(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "member.remove", "user", func(tx *store.Tx) (string, any, error) {
		old, err := tx.Role(r.Context(), c.ws.ID, r.PathValue("user"))
		if err != nil {
			return "", nil, err
		}
		if !mayGrant(c.role, old) {
			return "", nil, refuse("Only owners remove owners.")
		}
		return r.PathValue("user"), nil, tx.RemoveMember(r.Context(), c.ws.ID, r.PathValue("user"))
	})
	if err == nil && r.PathValue("user") == c.user.ID {
		c.flash = "You left " + c.ws.Name + "."
		return "/admin/", nil
	}
	c.flash = "Member removed."
	return "/members", err
}

func (d *Dashboard) revokeInvitation(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "member.uninvite", "user", func(tx *store.Tx) (string, any, error) {
		return "", nil, tx.RevokeInvitation(r.Context(), c.ws.ID, r.PathValue("hash"))
	})
	c.flash = "Invitation withdrawn."
	return "/members", err
}

type settingsData struct {
	// DKIMName and DKIMValue are the TXT record that lets receivers check
	// the workspace's signed mail.
	DKIMName, DKIMValue string
	Languages           []*locale.Locale
	// Invites are the addresses invited to read a private page.
	Invites   []sw.PageInvite
	CanInvite bool
}

func (d *Dashboard) settings(r *http.Request, c *reqCtx) (any, error) {
	sd := &settingsData{Languages: locale.All(), CanInvite: d.Mailer != nil}
	var err error
	if sd.Invites, err = d.Store.PageInvites(r.Context(), c.ws.ID); err != nil {
		return nil, err
	}
	domain := c.ws.MailDomain()
	if domain == "" {
		return sd, nil
	}
	k, err := d.Store.DKIMKey(r.Context(), c.ws.ID, domain)
	if errors.Is(err, store.ErrNotFound) {
		return sd, nil
	}
	if err != nil {
		return nil, err
	}
	signer, err := notify.ParseDKIMKey(k.PrivateKey)
	if err != nil {
		return nil, err
	}
	sd.DKIMName = k.Selector + "._domainkey." + k.Domain
	sd.DKIMValue, err = notify.DKIMRecord(signer)
	return sd, err
}

func (d *Dashboard) saveSettings(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	err := d.audited(r, c, "workspace.update", "workspace", func(tx *store.Tx) (string, any, error) {
		ws, err := tx.Workspace(r.Context(), c.ws.ID)
		if err != nil {
			return "", nil, err
		}
		ws.Name, ws.Timezone = strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("timezone"))
		ws.PublicAttackDetails, ws.MailFrom = f.Get("public_attack_details") != "", strings.TrimSpace(f.Get("mail_from"))
		ws.Language = f.Get("language")
		if err := ws.CheckSettings(); err != nil {
			return "", nil, err
		}
		if domain := ws.MailDomain(); domain != "" {
			// Mail from the workspace's own domain is DKIM-signed.
			if err := tx.EnsureDKIMKey(r.Context(), ws.ID, domain, notify.NewDKIMKey); err != nil {
				return "", nil, err
			}
		}
		return ws.ID, map[string]any{"name": ws.Name, "timezone": ws.Timezone, "public_attack_details": ws.PublicAttackDetails,
			"mail_from": ws.MailFrom, "language": ws.Language}, tx.UpdateWorkspace(r.Context(), ws)
	})
	c.flash = "Settings saved."
	return "/settings", err
}

// deleteWorkspace removes the workspace and everything in it, once the
// owner typed its slug.
func (d *Dashboard) deleteWorkspace(r *http.Request, c *reqCtx) (string, error) {
	if r.PostFormValue("confirm") != c.ws.Slug {
		return "", sw.Invalid("confirm", "type the workspace's slug, %s, to delete it", c.ws.Slug)
	}
	err := d.Store.Tx(r.Context(), func(tx *store.Tx) error { return tx.DeleteWorkspace(r.Context(), c.ws.ID) })
	if err == nil {
		d.Log.Info("workspace deleted", "workspace", c.ws.Slug, "by", c.user.Email)
	}
	c.flash = "Workspace " + c.ws.Name + " and everything in it were deleted."
	return "/admin/", err
}

type auditData struct {
	Entries []sw.AuditEntry
	More    bool
	Offset  int
}

func (d *Dashboard) audit(r *http.Request, c *reqCtx) (any, error) {
	ad := &auditData{}
	ad.Offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	ad.Offset = max(ad.Offset, 0)
	var err error
	ad.Entries, ad.More, err = d.Store.AuditLog(r.Context(), c.ws.ID, store.Page{Limit: 100, Offset: ad.Offset})
	return ad, err
}

// testSubscriber sends a chat or on-call subscriber a sample message now,
// through the same sender and guard as real deliveries, and says how it
// went.
func (d *Dashboard) testSubscriber(r *http.Request, c *reqCtx) (string, error) {
	sub, secret, err := d.Store.SubscriberSecret(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return "/subscribers", err
	}
	sender, ok := d.Channels[sub.Type]
	if !ok {
		return "/subscribers", sw.Invalid("type", "the test message is for chat and on-call subscribers; %s subscribers hear of the next incident", sub.Type)
	}
	root := strings.TrimSuffix(d.BaseURL, "/") + "/s/" + c.ws.Slug
	res := sender.Send(r.Context(), channel.Target{URL: sub.URL, Credential: secret, ChatID: sub.ChatID}, channel.Sample(c.ws.PageName(), root))
	if res.Err != nil {
		return "/subscribers", sw.Invalid("test", "the %s test message was not accepted: %v", sub.Type, res.Err)
	}
	c.flash = "Test message sent to the " + sub.Type + " subscriber."
	return "/subscribers", nil
}
