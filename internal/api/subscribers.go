package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/mail"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

type subscriberInput struct {
	Type       string     `json:"type"`
	Email      string     `json:"email"`
	URL        string     `json:"url"`
	Secret     string     `json:"secret"`
	Components []string   `json:"components"`
	MinImpact  *sw.Impact `json:"min_impact"`
}

// subscriberWithSecret is a webhook subscriber as answered when made: the
// signing secret (Standard Webhooks, whsec_…) is shown this once.
type subscriberWithSecret struct {
	*sw.Subscriber
	Secret string `json:"secret,omitempty"`
}

func newWebhookSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// createSubscriber adds an email address (unconfirmed: the double opt-in
// mail confirms it) or a webhook URL (checked against SSRF now and at
// every delivery) for all components or the ones listed.
func (s *Server) createSubscriber(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in subscriberInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sub := &sw.Subscriber{WorkspaceID: c.workspace, Type: in.Type, MinImpact: sw.ImpactNone}
	setIf(&sub.MinImpact, in.MinImpact)
	secret := ""
	switch in.Type {
	case sw.SubscriberEmail:
		addr, err := mail.ParseAddress(in.Email)
		if err != nil || addr.Address != strings.TrimSpace(in.Email) || len(in.Email) > 254 {
			return sw.Invalid("email", "must be a plain email address such as ops@example.com")
		}
		sub.Email = strings.ToLower(addr.Address)
		if in.URL != "" || in.Secret != "" {
			return sw.Invalid("url", "email subscribers take no url or secret")
		}
	case sw.SubscriberWebhook:
		if err := s.guard.CheckURL(r.Context(), in.URL); err != nil {
			return err
		}
		sub.URL = in.URL
		secret = in.Secret
		if secret == "" {
			secret = newWebhookSecret()
		} else if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 || len(secret) > 200 {
			return sw.Invalid("secret", "must be a Standard Webhooks secret: whsec_ and at least 24 base64 characters")
		}
		if in.Email != "" {
			return sw.Invalid("email", "webhook subscribers take no email")
		}
	default:
		return sw.Invalid("type", "must be email or webhook")
	}
	if in.Components == nil {
		in.Components = []string{}
	}
	err := s.mutate(r, c, "subscriber.create", "subscriber", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateSubscriber(r.Context(), sub, secret, in.Components)
		return sub.ID, map[string]any{"type": sub.Type, "email": sub.Email, "url": sub.URL, "components": sub.Components}, err
	})
	if err != nil {
		return err
	}
	out := subscriberWithSecret{Subscriber: sub}
	if sub.Type == sw.SubscriberWebhook && in.Secret == "" {
		out.Secret = secret
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
