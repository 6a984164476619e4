package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/mitigation"
	"github.com/stormwatch/stormwatch/internal/store"
)

// all reads every page of a workspace listing.
func all[T any](ctx context.Context, ws string, list func(context.Context, string, store.Page) ([]T, bool, error)) ([]T, error) {
	var out []T
	for p := (store.Page{Limit: 200}); ; p.Offset += p.Limit {
		items, more, err := list(ctx, ws, p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if !more {
			return out, nil
		}
	}
}

// pageURL is where the workspace's public page lives: under the base URL,
// which works wherever the dashboard does ({slug}.<pages-domain> needs
// wildcard DNS the operator may not have).
func (d *Dashboard) pageURL(ws *sw.Workspace) string {
	return d.link("/s/" + ws.Slug + "/")
}

type nodeRow struct {
	sw.Node
	Heartbeat sw.Heartbeat
	Alive     bool
	PPSLine   string
	BPSLine   string
}

type overviewData struct {
	Overall     sw.Overall
	PageURL     string
	Components  []sw.Component
	Attacks     []sw.Attack
	Incidents   []sw.Incident
	Maintenance []sw.Maintenance
	Nodes       []nodeRow
	// Disabled counts subscribers whose receivers failed for a day.
	Disabled int
}

// overview is the workspace's home: what the public sees now, attacks in
// progress, open incidents, and every node's heartbeat with its traffic.
func (d *Dashboard) overview(r *http.Request, c *reqCtx) (any, error) {
	ctx, ws := r.Context(), c.ws.ID
	od := &overviewData{PageURL: d.pageURL(c.ws)}
	var err error
	if od.Components, err = all(ctx, ws, d.Store.Components); err != nil {
		return nil, err
	}
	if od.Attacks, err = d.Store.ActiveAttacks(ctx, ws); err != nil {
		return nil, err
	}
	if od.Incidents, _, err = d.Store.Incidents(ctx, ws, store.IncidentFilter{Unresolved: true}, store.Page{Limit: 50}); err != nil {
		return nil, err
	}
	statuses := make([]sw.ComponentStatus, len(od.Components))
	for i, comp := range od.Components {
		statuses[i] = comp.Status
	}
	var impacts []sw.Impact
	for _, inc := range od.Incidents {
		if inc.Visibility == sw.VisibilityPublic {
			impacts = append(impacts, inc.Impact)
		}
	}
	od.Overall = sw.ComputeOverall(statuses, impacts)
	ms, _, err := d.Store.Maintenances(ctx, ws, store.Page{Limit: 50})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.State == sw.MaintenanceScheduled || m.State == sw.MaintenanceInProgress {
			od.Maintenance = append(od.Maintenance, m)
		}
	}
	if od.Nodes, err = d.nodeRows(ctx, ws); err != nil {
		return nil, err
	}
	disabled, _, err := d.Store.Subscribers(ctx, ws, store.SubscriberFilter{State: "disabled"}, store.Page{Limit: 200})
	if err != nil {
		return nil, err
	}
	od.Disabled = len(disabled)
	return od, nil
}

// sparkWindow is how much traffic the overview's sparklines show.
const sparkWindow = 15 * time.Minute

func (d *Dashboard) nodeRows(ctx context.Context, ws string) ([]nodeRow, error) {
	nodes, err := all(ctx, ws, d.Store.Nodes)
	if err != nil {
		return nil, err
	}
	now := d.Now()
	traffic, err := d.Store.Traffic(ctx, ws, now.Add(-sparkWindow))
	if err != nil {
		return nil, err
	}
	out := make([]nodeRow, len(nodes))
	for i, n := range nodes {
		row := nodeRow{Node: n}
		if len(n.LastHeartbeat) > 0 {
			_ = json.Unmarshal(n.LastHeartbeat, &row.Heartbeat) // a malformed summary shows as zeros
		}
		row.Alive = n.LastHeartbeatAt != nil && now.Sub(*n.LastHeartbeatAt) < time.Minute
		row.PPSLine = sparkline(traffic[n.ID], now.Add(-sparkWindow), now, false)
		row.BPSLine = sparkline(traffic[n.ID], now.Add(-sparkWindow), now, true)
		out[i] = row
	}
	return out, nil
}

// overviewLive answers the overview's live part alone, which its script
// fetches every few seconds.
func (d *Dashboard) overviewLive(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	data, err := d.overview(r, c)
	if err != nil {
		d.fail(w, r, c, err)
		return
	}
	v := &view{Name: "overview", User: c.user, WS: c.ws, Role: c.role, Data: data, Now: d.Now()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := templates["overview"].ExecuteTemplate(w, "live", v); err != nil {
		d.Log.ErrorContext(r.Context(), "render live overview", "err", err)
	}
}

type componentsData struct {
	Groups     []sw.Group
	Components []sw.Component
	Nodes      []sw.Node
}

func (d *Dashboard) components(r *http.Request, c *reqCtx) (any, error) {
	cd := &componentsData{}
	var err error
	if cd.Groups, err = all(r.Context(), c.ws.ID, d.Store.Groups); err != nil {
		return nil, err
	}
	if cd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	return cd, nil
}

// GroupName names a component's group ("" for none).
func (cd *componentsData) GroupName(id string) string {
	for _, g := range cd.Groups {
		if g.ID == id {
			return g.Name
		}
	}
	return ""
}

// readComponent fills a component from the form's fields.
func readComponent(r *http.Request, comp *sw.Component) {
	f := r.PostForm
	comp.Name = strings.TrimSpace(f.Get("name"))
	comp.Slug = strings.TrimSpace(f.Get("slug"))
	if comp.Slug == "" {
		comp.Slug = sw.Slugify(comp.Name)
	}
	comp.Description = strings.TrimSpace(f.Get("description"))
	comp.GroupID = f.Get("group")
	comp.Private = f.Get("private") != ""
	if s := f.Get("status"); s != "" {
		comp.Status = sw.ComponentStatus(s)
	}
}

func (d *Dashboard) createComponent(r *http.Request, c *reqCtx) (string, error) {
	comps, err := all(r.Context(), c.ws.ID, d.Store.Components)
	if err != nil {
		return "", err
	}
	comp := &sw.Component{WorkspaceID: c.ws.ID, Position: len(comps)}
	readComponent(r, comp)
	err = d.audited(r, c, "component.create", "component", func(tx *store.Tx) (string, any, error) {
		return comp.ID, comp, tx.CreateComponent(r.Context(), comp)
	})
	c.flash = "Component " + comp.Name + " added."
	return "/components", err
}

type componentData struct {
	Component *sw.Component
	Groups    []sw.Group
	Nodes     []sw.Node
	History   []sw.StatusChange
}

func (d *Dashboard) component(r *http.Request, c *reqCtx) (any, error) {
	comp, err := d.Store.Component(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	cd := &componentData{Component: comp}
	if cd.Groups, err = all(r.Context(), c.ws.ID, d.Store.Groups); err != nil {
		return nil, err
	}
	nodes, err := all(r.Context(), c.ws.ID, d.Store.Nodes)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if slices.Contains(n.Components, comp.Slug) {
			cd.Nodes = append(cd.Nodes, n)
		}
	}
	if cd.History, err = d.Store.StatusHistory(r.Context(), c.ws.ID, comp.ID); err != nil {
		return nil, err
	}
	if len(cd.History) > 20 {
		cd.History = cd.History[len(cd.History)-20:]
	}
	slices.Reverse(cd.History)
	return cd, nil
}

func (d *Dashboard) updateComponent(r *http.Request, c *reqCtx) (string, error) {
	var comp *sw.Component
	err := d.audited(r, c, "component.update", "component", func(tx *store.Tx) (string, any, error) {
		var err error
		if comp, err = tx.Component(r.Context(), c.ws.ID, r.PathValue("id")); err != nil {
			return "", nil, err
		}
		readComponent(r, comp)
		return comp.ID, comp, tx.UpdateComponent(r.Context(), comp)
	})
	c.flash = "Component saved."
	return "/components", err
}

func (d *Dashboard) deleteComponent(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "component.delete", "component", func(tx *store.Tx) (string, any, error) {
		comp, err := tx.Component(r.Context(), c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		return comp.ID, map[string]string{"slug": comp.Slug}, tx.DeleteComponent(r.Context(), c.ws.ID, comp.ID)
	})
	c.flash = "Component deleted."
	return "/components", err
}

// moveComponent moves a component one place up or down among the
// components of its group, renumbering the page order.
func (d *Dashboard) moveComponent(r *http.Request, c *reqCtx) (string, error) {
	up := r.PostFormValue("dir") == "up"
	err := d.audited(r, c, "component.move", "component", func(tx *store.Tx) (string, any, error) {
		comps, err := all(r.Context(), c.ws.ID, tx.Components)
		if err != nil {
			return "", nil, err
		}
		i := slices.IndexFunc(comps, func(x sw.Component) bool { return x.ID == r.PathValue("id") })
		if i < 0 {
			return "", nil, store.ErrNotFound
		}
		// The neighbour is the nearest component of the same group.
		j := i
		for {
			if up {
				j--
			} else {
				j++
			}
			if j < 0 || j >= len(comps) || comps[j].GroupID == comps[i].GroupID {
				break
			}
		}
		if j >= 0 && j < len(comps) {
			comps[i], comps[j] = comps[j], comps[i]
		}
		for pos := range comps {
			if comps[pos].Position != pos {
				comps[pos].Position = pos
				if err := tx.UpdateComponent(r.Context(), &comps[pos]); err != nil {
					return "", nil, err
				}
			}
		}
		return r.PathValue("id"), map[string]bool{"up": up}, nil
	})
	return "/components", err
}

func readGroup(r *http.Request, g *sw.Group) {
	g.Name = strings.TrimSpace(r.PostFormValue("name"))
	g.Description = strings.TrimSpace(r.PostFormValue("description"))
	if p, err := strconv.Atoi(r.PostFormValue("position")); err == nil {
		g.Position = p
	}
}

func (d *Dashboard) createGroup(r *http.Request, c *reqCtx) (string, error) {
	groups, err := all(r.Context(), c.ws.ID, d.Store.Groups)
	if err != nil {
		return "", err
	}
	g := &sw.Group{WorkspaceID: c.ws.ID, Position: len(groups)}
	readGroup(r, g)
	err = d.audited(r, c, "group.create", "group", func(tx *store.Tx) (string, any, error) {
		return g.ID, g, tx.CreateGroup(r.Context(), g)
	})
	c.flash = "Group " + g.Name + " added."
	return "/components", err
}

func (d *Dashboard) updateGroup(r *http.Request, c *reqCtx) (string, error) {
	err := d.audited(r, c, "group.update", "group", func(tx *store.Tx) (string, any, error) {
		g, err := tx.Group(r.Context(), c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		readGroup(r, g)
		return g.ID, g, tx.UpdateGroup(r.Context(), g)
	})
	c.flash = "Group saved."
	return "/components", err
}

type nodesData struct {
	Nodes      []nodeRow
	Components []sw.Component
	// Command is the one-line agent command of a node just made.
	Command string
}

func (d *Dashboard) nodes(r *http.Request, c *reqCtx) (any, error) {
	nd := &nodesData{}
	var err error
	if nd.Nodes, err = d.nodeRows(r.Context(), c.ws.ID); err != nil {
		return nil, err
	}
	if nd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	if c.shown != nil {
		nd.Command = agentCommand(d.BaseURL, c.shown.Value)
	}
	return nd, nil
}

// agentCommand is the line that starts an agent for a node's token: the
// token travels in the environment, not on the command line where ps
// would show it.
func agentCommand(baseURL, token string) string {
	return "STORMWATCH_TOKEN=" + token + " stormwatch agent --server " + strings.TrimSuffix(baseURL, "/") + " --prefix 203.0.113.0/24 --interface eth0"
}

func (d *Dashboard) createNode(r *http.Request, c *reqCtx) (string, error) {
	n := &sw.Node{WorkspaceID: c.ws.ID, Name: strings.TrimSpace(r.PostFormValue("name"))}
	refs := r.PostForm["components"]
	if refs == nil {
		refs = []string{}
	}
	var token string
	err := d.audited(r, c, "node.create", "node", func(tx *store.Tx) (string, any, error) {
		var err error
		token, err = tx.CreateNode(r.Context(), n, refs)
		return n.ID, map[string]any{"name": n.Name, "components": n.Components}, err
	})
	if err == nil {
		c.shown = &shown{Label: "Token of node " + n.Name, Value: token,
			Hint: "Shown this once. Run the command below on the node, with the address block it protects as --prefix and the interface that carries its traffic."}
	}
	return "/nodes", err
}

type nodeData struct {
	Node       nodeRow
	Components []sw.Component
	Command    string
}

func (d *Dashboard) node(r *http.Request, c *reqCtx) (any, error) {
	n, err := d.Store.Node(r.Context(), c.ws.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rows, err := d.nodeRows(r.Context(), c.ws.ID)
	if err != nil {
		return nil, err
	}
	nd := &nodeData{Node: nodeRow{Node: *n}}
	for _, row := range rows {
		if row.ID == n.ID {
			nd.Node = row
		}
	}
	if nd.Components, err = all(r.Context(), c.ws.ID, d.Store.Components); err != nil {
		return nil, err
	}
	if c.shown != nil {
		nd.Command = agentCommand(d.BaseURL, c.shown.Value)
	}
	return nd, nil
}

func (d *Dashboard) updateNode(r *http.Request, c *reqCtx) (string, error) {
	refs := r.PostForm["components"]
	if refs == nil {
		refs = []string{}
	}
	err := d.audited(r, c, "node.update", "node", func(tx *store.Tx) (string, any, error) {
		n, err := tx.Node(r.Context(), c.ws.ID, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		n.Name = strings.TrimSpace(r.PostFormValue("name"))
		n.MitigationPolicy = nil
		if raw := strings.TrimSpace(r.PostFormValue("mitigation_policy")); raw != "" {
			p, err := mitigation.ParsePolicy([]byte(raw))
			if err != nil {
				return "", nil, sw.Invalid("mitigation_policy", "%v", err)
			}
			n.MitigationPolicy, _ = json.Marshal(p) // stored as read back, defaults filled
		}
		return n.ID, map[string]any{"name": n.Name, "components": refs, "mitigation_policy": n.MitigationPolicy}, tx.UpdateNode(r.Context(), n, refs)
	})
	c.flash = "Node saved."
	return "/nodes/" + r.PathValue("id"), err
}

func (d *Dashboard) rotateNode(r *http.Request, c *reqCtx) (string, error) {
	var token string
	err := d.audited(r, c, "node.rotate_token", "node", func(tx *store.Tx) (string, any, error) {
		var err error
		token, err = tx.RotateNodeToken(r.Context(), c.ws.ID, r.PathValue("id"))
		return r.PathValue("id"), nil, err
	})
	if err == nil {
		c.shown = &shown{Label: "New token", Value: token, Hint: "The old token stopped working. Restart the agent with the command below."}
	}
	return "/nodes/" + r.PathValue("id"), err
}
