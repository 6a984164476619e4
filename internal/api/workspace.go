package api

import (
	"net/http"
	"net/url"
	"regexp"
	"time"

	sw "github.com/stormwatch/stormwatch"
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
	Name                *string      `json:"name"`
	Timezone            *string      `json:"timezone"`
	Branding            *sw.Branding `json:"branding"`
	PublicAttackDetails *bool        `json:"public_attack_details"`
	MailFrom            *string      `json:"mail_from"`
}

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func checkBranding(b *sw.Branding) error {
	if err := sw.CheckText("branding.page_title", b.PageTitle, sw.MaxNameLen, false); err != nil {
		return err
	}
	for field, v := range map[string]string{"branding.logo_url": b.LogoURL, "branding.favicon_url": b.FaviconURL} {
		if err := checkLink(field, v); err != nil {
			return err
		}
	}
	if b.BrandColor != "" && !colorPattern.MatchString(b.BrandColor) {
		return sw.Invalid("branding.brand_color", "must be a colour like #1f6feb")
	}
	if len(b.FooterLinks) > 10 {
		return sw.Invalid("branding.footer_links", "at most 10 links")
	}
	for _, l := range b.FooterLinks {
		if err := sw.CheckText("branding.footer_links.label", l.Label, 80, true); err != nil {
			return err
		}
		if err := checkLink("branding.footer_links.url", l.URL); err != nil {
			return err
		}
	}
	return nil
}

// checkLink accepts empty or absolute http(s) URLs, so that no
// javascript: or data: link reaches the public page.
func checkLink(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > 2000 {
		return sw.Invalid(field, "must be an absolute http or https URL")
	}
	return nil
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
		setIf(&ws.Branding, in.Branding)
		setIf(&ws.PublicAttackDetails, in.PublicAttackDetails)
		setIf(&ws.MailFrom, in.MailFrom)
		if _, err := time.LoadLocation(ws.Timezone); err != nil || ws.Timezone == "" || ws.Timezone == "Local" {
			return "", nil, sw.Invalid("timezone", "must be an IANA time zone such as Europe/Berlin or UTC")
		}
		if err := checkBranding(&ws.Branding); err != nil {
			return "", nil, err
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
