package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/autotls"
	"github.com/stormwatch/stormwatch/internal/domains"
	"github.com/stormwatch/stormwatch/internal/store"
)

// WithDomainChecker lets the API verify custom domains.
func WithDomainChecker(c *domains.Checker) Option { return func(s *Server) { s.checker = c } }

// domainOutput is a custom domain with the DNS records that verify it and
// its certificate, if one was obtained.
type domainOutput struct {
	ID          string               `json:"id"`
	Hostname    string               `json:"hostname"`
	Verified    bool                 `json:"verified"`
	VerifiedBy  string               `json:"verified_by,omitempty"`
	VerifiedAt  *time.Time           `json:"verified_at"`
	CheckedAt   *time.Time           `json:"checked_at"`
	CheckError  string               `json:"check_error,omitempty"`
	CNAME       dnsRecord            `json:"cname"`
	TXT         dnsRecord            `json:"txt"`
	Certificate *autotls.Certificate `json:"certificate"`
	CreatedAt   time.Time            `json:"created_at"`
}

type dnsRecord struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *Server) domainOutput(ctx context.Context, d *store.Domain) (*domainOutput, error) {
	out := &domainOutput{ID: d.ID, Hostname: d.Hostname, Verified: d.Verified, VerifiedBy: d.VerifiedBy, VerifiedAt: d.VerifiedAt,
		CheckedAt: d.CheckedAt, CheckError: d.CheckError, CreatedAt: d.CreatedAt,
		CNAME: dnsRecord{Name: d.Hostname}, TXT: dnsRecord{Name: domains.TXTPrefix + d.Hostname}}
	if s.checker != nil {
		out.CNAME.Value, out.TXT.Value = s.checker.Target, s.checker.Token(d.ID)
	}
	cert, ok, err := autotls.StoredCertificate(ctx, s.store, d.Hostname)
	if err != nil {
		return nil, err
	}
	if ok {
		out.Certificate = &cert
	}
	return out, nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, c *caller) error {
	list, err := s.store.Domains(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	out := []*domainOutput{}
	for i := range list {
		d, err := s.domainOutput(r.Context(), &list[i])
		if err != nil {
			return err
		}
		out = append(out, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "next_cursor": nil})
	return nil
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request, c *caller) error {
	d, err := s.store.Domain(r.Context(), c.workspace, r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.domainOutput(r.Context(), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type domainInput struct {
	Hostname string `json:"hostname"`
}

// createDomain attaches a hostname, unverified: it is not served, and
// gets no certificate, until its DNS points here.
func (s *Server) createDomain(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in domainInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var d *store.Domain
	err := s.mutate(r, c, "domain.create", "domain", func(tx *store.Tx) (string, any, error) {
		var err error
		d, err = tx.CreateDomain(r.Context(), c.workspace, strings.TrimSpace(in.Hostname))
		if err != nil {
			return "", nil, err
		}
		return d.ID, in, nil
	})
	if err != nil {
		return err
	}
	out, err := s.domainOutput(r.Context(), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// verifyDomain checks the domain's DNS now and answers what it found.
func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, c *caller) error {
	d, err := s.store.Domain(r.Context(), c.workspace, r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.checker == nil {
		return apiError(http.StatusServiceUnavailable, "unavailable", "custom domain checks are not configured on this server")
	}
	res, err := s.checker.CheckAndRecord(r.Context(), s.store, d)
	if err != nil {
		return err
	}
	if res.By != "" && !d.Verified {
		err := s.mutate(r, c, "domain.verify", "domain", func(tx *store.Tx) (string, any, error) {
			return d.ID, map[string]string{"hostname": d.Hostname, "by": res.By}, nil
		})
		if err != nil {
			return err
		}
	}
	return s.getDomain(w, r, c)
}
