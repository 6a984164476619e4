package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/access"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// InviteMailer sends private pages' invitation mails.
type InviteMailer interface {
	Send(ctx context.Context, m *notify.Mail) error
}

// invites is how invitation links are made and sent.
type invites struct {
	mailer  InviteMailer
	keys    access.Keys
	from    string
	baseURL string
	now     func() time.Time
}

// WithPageInvites mails invitation links to private pages with m, signed
// with secret, from address from, linking under baseURL.
func WithPageInvites(m InviteMailer, secret []byte, from, baseURL string) Option {
	return func(s *Server) {
		s.invites = &invites{mailer: m, keys: access.Keys{Secret: secret}, from: from, baseURL: strings.TrimSuffix(baseURL, "/"), now: time.Now}
	}
}

// pageAccessInput changes who may read the page; absent fields stay.
type pageAccessInput struct {
	Private *bool `json:"private"`
	// Password sets the page's password; "" removes it.
	Password *string   `json:"password"`
	IPRanges *[]string `json:"ip_ranges"`
	// RevokeAll ends every reader's access (cookies and links) at once.
	RevokeAll bool `json:"revoke_all"`
}

func (s *Server) getPageAccess(w http.ResponseWriter, r *http.Request, c *caller) error {
	ws, err := s.store.Workspace(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws.Access)
	return nil
}

func (s *Server) putPageAccess(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in pageAccessInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e := store.PageAccessEdit{Private: in.Private, IPRanges: in.IPRanges, RevokeAll: in.RevokeAll}
	if in.Password != nil {
		hash := ""
		if *in.Password != "" {
			if err := sw.CheckPagePassword("password", *in.Password); err != nil {
				return err
			}
			hash = account.HashPassword(*in.Password, account.DefaultParams)
		}
		e.PasswordHash = &hash
	}
	var ws *sw.Workspace
	err := s.mutate(r, c, "page_access.update", "workspace", func(tx *store.Tx) (string, any, error) {
		var details map[string]any
		var err error
		ws, details, err = tx.EditPageAccess(r.Context(), c.workspace, e)
		return c.workspace, details, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws.Access)
	return nil
}

type inviteInput struct {
	Email string `json:"email"`
	// Language of the invitation mail (default: the page's).
	Language string `json:"language"`
}

// createPageInvite invites an address and mails it a link at once. The
// invitation stands even when the mail fails (the answer says so, and a
// new POST sends the link again).
func (s *Server) createPageInvite(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in inviteInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if !locale.Valid(in.Language) {
		return sw.Invalid("language", "must be one of %s", locale.Codes())
	}
	if s.invites == nil || s.invites.mailer == nil {
		return apiError(http.StatusConflict, "no_mail", "this server sends no mail (no --smtp-url): invitations cannot be sent")
	}
	var inv *sw.PageInvite
	err := s.mutate(r, c, "page_access.invite", "page_invite", func(tx *store.Tx) (string, any, error) {
		var err error
		inv, err = tx.CreatePageInvite(r.Context(), c.workspace, in.Email)
		if err != nil {
			return "", nil, err
		}
		return inv.ID, map[string]any{"email": inv.Email}, nil
	})
	if err != nil {
		return err
	}
	ws, err := s.store.Workspace(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	lang := in.Language
	if lang == "" {
		lang = ws.Language
	}
	root := s.invites.baseURL + "/s/" + ws.Slug
	mail, err := notify.ComposeInvite(ws, inv.Email, s.invites.keys.Link(root, ws, inv.Email, s.invites.now()), s.invites.from, lang)
	if err == nil {
		err = s.invites.mailer.Send(r.Context(), mail)
	}
	if err != nil {
		return apiError(http.StatusBadGateway, "mail_failed", "invited "+inv.Email+", but the link could not be mailed ("+err.Error()+"); POST again to resend")
	}
	writeJSON(w, http.StatusCreated, inv)
	return nil
}

func (s *Server) listPageInvites(w http.ResponseWriter, r *http.Request, c *caller) error {
	out, err := s.store.PageInvites(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *Server) deletePageInvite(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	err := s.mutate(r, c, "page_access.uninvite", "page_invite", func(tx *store.Tx) (string, any, error) {
		return id, nil, tx.DeletePageInvite(r.Context(), c.workspace, id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
