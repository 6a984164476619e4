package dashboard

import (
	"net/http"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/access"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// saveAccess sets who may read the page: private or not, its password,
// its address ranges, and revokes every reader's access on request.
func (d *Dashboard) saveAccess(r *http.Request, c *reqCtx) (string, error) {
	f := r.PostForm
	private := f.Get("private") != ""
	ranges := append([]string{}, strings.FieldsFunc(f.Get("ip_ranges"), func(r rune) bool {
		return r == '\n' || r == ',' || r == ' ' || r == '\r'
	})...)
	e := store.PageAccessEdit{Private: &private, IPRanges: &ranges, RevokeAll: f.Get("revoke_all") != ""}
	if password := f.Get("password"); password != "" {
		if err := sw.CheckPagePassword("password", password); err != nil {
			return "", err
		}
		hash := account.HashPassword(password, d.Passwords)
		e.PasswordHash = &hash
	} else if f.Get("remove_password") != "" {
		none := ""
		e.PasswordHash = &none
	}
	err := d.audited(r, c, "page_access.update", "workspace", func(tx *store.Tx) (string, any, error) {
		_, details, err := tx.EditPageAccess(r.Context(), c.ws.ID, e)
		return c.ws.ID, details, err
	})
	c.flash = "Access saved."
	if e.RevokeAll {
		c.flash = "Access saved; every reader must open the page again."
	}
	return "/settings", err
}

// invitePageReader invites an address to the private page and mails it
// a link at once.
func (d *Dashboard) invitePageReader(r *http.Request, c *reqCtx) (string, error) {
	lang := r.PostForm.Get("language")
	if !locale.Valid(lang) {
		return "", sw.Invalid("language", "must be one of %s", locale.Codes())
	}
	if d.Mailer == nil {
		return "", sw.Invalid("email", "this server sends no mail (no --smtp-url): invitations cannot be sent")
	}
	var inv *sw.PageInvite
	err := d.audited(r, c, "page_access.invite", "page_invite", func(tx *store.Tx) (string, any, error) {
		var err error
		inv, err = tx.CreatePageInvite(r.Context(), c.ws.ID, r.PostForm.Get("email"))
		if err != nil {
			return "", nil, err
		}
		return inv.ID, map[string]any{"email": inv.Email}, nil
	})
	if err != nil {
		return "", err
	}
	if lang == "" {
		lang = c.ws.Language
	}
	root := strings.TrimSuffix(d.pageURL(c.ws), "/")
	keys := access.Keys{Secret: d.AccessKey}
	m, err := notify.ComposeInvite(c.ws, inv.Email, keys.Link(root, c.ws, inv.Email, d.Now()), d.MailFrom, lang)
	if err == nil {
		err = d.Mailer.Send(r.Context(), m)
	}
	if err != nil {
		c.flash = "Invited " + inv.Email + ", but the mail could not be sent (" + err.Error() + "); invite again to resend."
		return "/settings", nil
	}
	c.flash = "Invited " + inv.Email + "; the link is on its way."
	return "/settings", nil
}

func (d *Dashboard) uninvitePageReader(r *http.Request, c *reqCtx) (string, error) {
	id := r.PathValue("id")
	err := d.audited(r, c, "page_access.uninvite", "page_invite", func(tx *store.Tx) (string, any, error) {
		return id, nil, tx.DeletePageInvite(r.Context(), c.ws.ID, id)
	})
	c.flash = "Invitation withdrawn; its links stop working."
	return "/settings", err
}
