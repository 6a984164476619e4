package api

import (
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, c *caller) error {
	ws, err := s.store.Workspace(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

type workspaceInput struct {
	Name                *string        `json:"name"`
	Timezone            *string        `json:"timezone"`
	Branding            *brandingInput `json:"branding"`
	PublicAttackDetails *bool          `json:"public_attack_details"`
	MailFrom            *string        `json:"mail_from"`
	SubscribeChannels   *[]string      `json:"subscribe_channels"`
	Language            *string        `json:"language"`
}

func (s *Server) patchWorkspace(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in workspaceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var ws *sw.Workspace
	err := s.mutate(r, c, "workspace.update", "workspace", func(tx *store.Tx) (string, any, error) {
		var err error
		if ws, err = tx.Workspace(r.Context(), c.workspace); err != nil {
			return "", nil, err
		}
		setIf(&ws.Name, in.Name)
		setIf(&ws.Timezone, in.Timezone)
		if b := in.Branding; b != nil {
			// PATCH changes what it names: one branding field leaves the
			// others as they are.
			setIf(&ws.Branding.PageTitle, b.PageTitle)
			setIf(&ws.Branding.LogoURL, b.LogoURL)
			setIf(&ws.Branding.FaviconURL, b.FaviconURL)
			setIf(&ws.Branding.BrandColor, b.BrandColor)
			setIf(&ws.Branding.FooterLinks, b.FooterLinks)
			setIf(&ws.Branding.HideBadge, b.HideBadge)
		}
		setIf(&ws.PublicAttackDetails, in.PublicAttackDetails)
		setIf(&ws.MailFrom, in.MailFrom)
		setIf(&ws.SubscribeChannels, in.SubscribeChannels)
		setIf(&ws.Language, in.Language)
		if err := ws.CheckSettings(); err != nil {
			return "", nil, err
		}
		if domain := ws.MailDomain(); domain != "" {
			// Mail from the workspace's own domain is DKIM-signed.
			if err := tx.EnsureDKIMKey(r.Context(), ws.ID, domain, notify.NewDKIMKey); err != nil {
				return "", nil, err
			}
		}
		return ws.ID, in, tx.UpdateWorkspace(r.Context(), ws)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

type apiKeyInput struct {
	Name string  `json:"name"`
	Role sw.Role `json:"role"`
}

// brandingInput is sw.Branding with every field optional.
type brandingInput struct {
	PageTitle   *string          `json:"page_title"`
	LogoURL     *string          `json:"logo_url"`
	FaviconURL  *string          `json:"favicon_url"`
	BrandColor  *string          `json:"brand_color"`
	FooterLinks *[]sw.FooterLink `json:"footer_links"`
	HideBadge   *bool            `json:"hide_badge"`
}

// keyWithSecret is a key as answered when made: the only time the secret
// is shown.
type keyWithSecret struct {
	*sw.APIKey
	Key string `json:"key"`
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	in := apiKeyInput{Role: sw.RoleEditor}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Role.Valid() && !c.key.Role.AtLeast(in.Role) {
		return apiError(http.StatusForbidden, "forbidden", "a key cannot make a key with a stronger role than its own")
	}
	var key *sw.APIKey
	var token string
	err := s.mutate(r, c, "api_key.create", "api_key", func(tx *store.Tx) (string, any, error) {
		var err error
		key, token, err = tx.CreateAPIKey(r.Context(), c.workspace, in.Name, in.Role)
		if err != nil {
			return "", nil, err
		}
		return key.ID, map[string]any{"name": key.Name, "role": key.Role, "prefix": key.Prefix}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyWithSecret{APIKey: key, Key: token})
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	err := s.mutate(r, c, "api_key.revoke", "api_key", func(tx *store.Tx) (string, any, error) {
		k, err := tx.APIKey(r.Context(), c.workspace, id)
		if err != nil {
			return "", nil, err
		}
		if !c.key.Role.AtLeast(k.Role) {
			return "", nil, apiError(http.StatusForbidden, "forbidden", "a key cannot revoke a key with a stronger role than its own")
		}
		return id, nil, tx.RevokeAPIKey(r.Context(), c.workspace, id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
