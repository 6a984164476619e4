package dashboard

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/monitor"
	"github.com/stormwatch/stormwatch/internal/store"
)

type checksData struct {
	Checks     []sw.Check
	Components []sw.Component
	Nodes      []sw.Node
	Types      []string
	Records    []string
}

func (d *Dashboard) checks(r *http.Request, c *reqCtx) (any, error) {
	cd := &checksData{Types: []string{sw.CheckHTTP, sw.CheckTCP, sw.CheckICMP, sw.CheckDNS, sw.CheckUDP}, Records: sw.DNSRecords}
	var err error
	if cd.Checks, err = all(r.Context(), c.ws.ID, d.Store.Checks); err != nil {
		return nil, err
	}
	if cd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	if cd.Nodes, err = all(r.Context(), c.ws.ID, d.Store.Nodes); err != nil {
		return nil, err
	}
	return cd, nil
}

// createCheck adds a check from the form: the common fields, and those of
// its type (the others are ignored). "Where" is the server, every node,
// or the nodes ticked.
func (d *Dashboard) createCheck(r *http.Request, c *reqCtx) (string, error) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	k := &sw.Check{WorkspaceID: c.ws.ID, Component: f("component"), Name: f("name"), Type: f("type"), Target: f("target")}
	for _, field := range []struct {
		name string
		into *sw.Duration
	}{{"interval", &k.Interval}, {"timeout", &k.Timeout}} {
		if v := f(field.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil {
				return "/checks", sw.Invalid(field.name, "%q is not a duration such as 30s or 2m", v)
			}
			*field.into = sw.Duration(dur)
		}
	}
	if v := f("failures"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return "/checks", sw.Invalid("failures", "must be a number of consecutive failures")
		}
		k.Failures = n
	}
	switch f("where") {
	case "all":
		k.Nodes = []string{"*"}
	case "nodes":
		k.Nodes = r.PostForm["nodes"]
		if len(k.Nodes) == 0 {
			return "/checks", sw.Invalid("nodes", "tick the nodes that run the check")
		}
	}
	switch k.Type {
	case sw.CheckHTTP:
		k.BodyMatch, k.ExpectStatus = f("body_match"), f("expect_status")
	case sw.CheckDNS:
		k.Record, k.Server, k.Expect = f("record"), f("server"), f("expect")
	case sw.CheckUDP:
		k.Payload, k.Expect = f("payload"), f("expect_hex")
	}
	if err := monitor.Vet(r.Context(), d.Guard, k); err != nil {
		return "/checks", err
	}
	err := d.audited(r, c, "check.create", "check", func(tx *store.Tx) (string, any, error) {
		err := tx.CreateCheck(r.Context(), k)
		return k.ID, map[string]any{"name": k.Name, "type": k.Type, "component": k.Component}, err
	})
	c.flash = "Check added; its first results arrive within an interval."
	return "/checks", err
}

func (d *Dashboard) deleteCheck(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "check.delete", "check", func(tx *store.Tx) (string, any, error) {
		k, err := d.Monitor.Delete(r.Context(), tx, c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		return k.ID, map[string]any{"name": k.Name}, nil
	})
	c.flash = "Check deleted."
	return "/checks", err
}
