package monitor

import (
	"context"
	"net"
	"net/url"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Vet applies a check's defaults, validates it, and keeps checks the
// server runs itself off internal addresses unless guard allows them: a
// tenant must not probe the operator's network (SSRF). Checks run by
// agents probe the tenant's own networks and may reach anything.
func Vet(ctx context.Context, guard *notify.Guard, k *sw.Check) error {
	if k.Component == "" {
		return sw.Invalid("component", "is required: the slug or id of the component the check watches")
	}
	k.Defaults()
	if err := k.Validate(); err != nil {
		return err
	}
	if len(k.Nodes) > 0 {
		return nil
	}
	host := k.Target
	switch k.Type {
	case sw.CheckHTTP:
		return serverOnly("target", guard.CheckURL(ctx, k.Target))
	case sw.CheckTCP, sw.CheckUDP:
		host, _, _ = net.SplitHostPort(k.Target)
	case sw.CheckDNS:
		if k.Server == "" {
			return nil // the server's own resolver
		}
		h, _, _ := net.SplitHostPort(k.Server)
		return serverOnly("server", guard.CheckURL(ctx, "http://"+net.JoinHostPort(h, "53")+"/"))
	}
	return serverOnly("target", guard.CheckURL(ctx, (&url.URL{Scheme: "http", Host: host, Path: "/"}).String()))
}

// serverOnly renames the field of a webhook guard's refusal and says how
// to probe a private network instead.
func serverOnly(field string, err error) error {
	if ve, ok := err.(*sw.ValidationError); ok {
		return sw.Invalid(field, "%s (the server runs checks with no node; give the check a node to probe private networks from an agent)", ve.Message)
	}
	return err
}

// Delete removes workspace ws's check ref (id or name) in tx, ending its
// signal first: judged with no location it ends, so an incident it held
// open may resolve. It returns the deleted check.
func (m *Monitor) Delete(ctx context.Context, tx *store.Tx, ws, ref string) (*sw.Check, error) {
	k, err := tx.Check(ctx, ws, ref)
	if err != nil {
		return nil, err
	}
	if err := tx.ForgetCheckLocations(ctx, k.ID); err != nil {
		return nil, err
	}
	if err := m.Judge(ctx, tx, ws, k); err != nil {
		return nil, err
	}
	return k, tx.DeleteCheck(ctx, ws, k.ID)
}
