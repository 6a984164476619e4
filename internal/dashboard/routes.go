package dashboard

import (
	"context"
	"io/fs"
	"net/http"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// routes lists every screen and action with the least role it needs. The
// role tests walk this table.
func (d *Dashboard) routes() {
	const (
		owner  = sw.RoleOwner
		admin  = sw.RoleAdmin
		editor = sw.RoleEditor
		viewer = sw.RoleViewer
	)
	static, _ := fs.Sub(assets, "static")
	d.mux.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", staticFiles(static)))

	// Accounts.
	d.mux.HandleFunc("GET /admin/{$}", d.signedIn(d.home))
	d.mux.HandleFunc("GET /admin/setup", d.setupForm)
	d.mux.HandleFunc("POST /admin/setup", d.setup)
	d.mux.HandleFunc("GET /admin/login", d.loginForm)
	d.mux.HandleFunc("POST /admin/login", d.login)
	d.mux.HandleFunc("POST /admin/logout", d.signedIn(d.logout))
	d.mux.HandleFunc("GET /admin/reset", d.resetRequestForm)
	d.mux.HandleFunc("POST /admin/reset", d.resetRequest)
	d.mux.HandleFunc("GET /admin/reset/{token}", d.resetForm)
	d.mux.HandleFunc("POST /admin/reset/{token}", d.reset)
	d.mux.HandleFunc("GET /admin/invite/{token}", d.inviteForm)
	d.mux.HandleFunc("POST /admin/invite/{token}", d.acceptInvite)
	d.mux.HandleFunc("GET /admin/account", d.signedIn(d.accountPage))
	d.mux.HandleFunc("POST /admin/account", d.signedIn(d.updateAccount))
	d.mux.HandleFunc("POST /admin/workspaces", d.signedIn(d.createWorkspace))

	const w = "/admin/w/{ws}"
	d.page(w+"/{$}", viewer, "overview", d.overview)
	d.mux.Handle("GET "+w+"/live", d.inWorkspace(viewer, d.overviewLive))

	d.page(w+"/components", viewer, "components", d.components)
	d.action(w+"/components", editor, "components", d.createComponent)
	d.page(w+"/components/{id}", viewer, "component", d.component)
	d.action(w+"/components/{id}", editor, "component", d.updateComponent)
	d.action(w+"/components/{id}/move", editor, "components", d.moveComponent)
	d.action(w+"/components/{id}/delete", editor, "component", d.deleteComponent)
	d.action(w+"/groups", editor, "components", d.createGroup)
	d.action(w+"/groups/{id}", editor, "components", d.updateGroup)
	d.action(w+"/groups/{id}/delete", editor, "components", d.deleteOf("group.delete", "group", (*store.Tx).DeleteGroup, "Group deleted; its components are ungrouped.", "/components"))

	d.page(w+"/nodes", viewer, "nodes", d.nodes)
	d.action(w+"/nodes", editor, "nodes", d.createNode)
	d.page(w+"/nodes/{id}", viewer, "node", d.node)
	d.action(w+"/nodes/{id}", editor, "node", d.updateNode)
	d.action(w+"/nodes/{id}/rotate", editor, "node", d.rotateNode)
	d.action(w+"/nodes/{id}/delete", editor, "node", d.deleteOf("node.delete", "node", (*store.Tx).DeleteNode, "Node deleted; its token no longer works.", "/nodes"))

	d.page(w+"/checks", viewer, "checks", d.checks)
	d.action(w+"/checks", editor, "checks", d.createCheck)
	d.action(w+"/checks/{id}/delete", editor, "checks", d.deleteCheck)

	d.page(w+"/rules", viewer, "rules", d.rules)
	d.action(w+"/rules", admin, "rules", d.saveRules)
	d.action(w+"/rules/check", viewer, "rules", d.checkRules)

	d.page(w+"/incidents", viewer, "incidents", d.incidents)
	d.action(w+"/incidents", editor, "incidents", d.createIncident)
	d.page(w+"/incidents/{id}", viewer, "incident", d.incident)
	d.action(w+"/incidents/{id}/updates", editor, "incident", d.postIncidentUpdate)
	d.action(w+"/incidents/{id}/edit", editor, "incident", d.editIncident)
	d.action(w+"/incidents/{id}/delete", editor, "incident", d.deleteOf("incident.delete", "incident", (*store.Tx).DeleteIncident, "Incident deleted.", "/incidents"))

	d.page(w+"/maintenance", viewer, "maintenance", d.maintenances)
	d.action(w+"/maintenance", editor, "maintenance", d.createMaintenance)
	d.page(w+"/maintenance/{id}", viewer, "window", d.maintenance)
	d.action(w+"/maintenance/{id}", editor, "window", d.updateMaintenance)
	d.action(w+"/maintenance/{id}/state", editor, "window", d.setMaintenanceState)
	d.action(w+"/maintenance/{id}/delete", editor, "window", d.deleteOf("maintenance.delete", "maintenance", (*store.Tx).DeleteMaintenance, "Maintenance deleted.", "/maintenance"))

	d.page(w+"/subscribers", editor, "subscribers", d.subscribers)
	d.mux.Handle("GET "+w+"/subscribers/export", d.inWorkspace(editor, d.exportSubscribers))
	d.mux.Handle("GET "+w+"/attacks/{id}/pcap", d.inWorkspace(viewer, d.attackCapture))
	d.action(w+"/subscribers", editor, "subscribers", d.addSubscriber)
	d.action(w+"/subscribers/import", editor, "subscribers", d.importSubscribers)
	d.action(w+"/subscribers/{id}/delete", editor, "subscribers", d.deleteOf("subscriber.delete", "subscriber", (*store.Tx).DeleteSubscriber, "Subscriber removed.", "/subscribers"))
	d.action(w+"/subscribers/{id}/enable", editor, "subscribers", d.enableSubscriber)
	d.action(w+"/subscribers/{id}/test", editor, "subscribers", d.testSubscriber)
	d.page(w+"/deliveries", editor, "deliveries", d.deliveries)
	d.page(w+"/deliveries/{id}", editor, "delivery", d.delivery)

	d.page(w+"/branding", viewer, "branding", d.branding)
	d.action(w+"/branding", admin, "branding", d.saveBranding)

	d.page(w+"/domains", viewer, "domains", d.domains)
	d.action(w+"/domains", admin, "domains", d.addDomain)
	d.action(w+"/domains/{id}/check", admin, "domains", d.checkDomain)
	d.action(w+"/domains/{id}/delete", admin, "domains", d.deleteOf("domain.delete", "domain", (*store.Tx).DeleteDomain, "Domain removed; it is no longer served.", "/domains"))

	d.page(w+"/keys", admin, "keys", d.keys)
	d.action(w+"/keys", admin, "keys", d.createKey)
	d.action(w+"/keys/{id}/revoke", admin, "keys", d.revokeKey)

	d.page(w+"/members", viewer, "members", d.members)
	d.action(w+"/members/invite", admin, "members", d.invite)
	d.action(w+"/members/{user}/role", admin, "members", d.setRole)
	d.action(w+"/members/{user}/remove", admin, "members", d.removeMember)
	d.action(w+"/invitations/{hash}/revoke", admin, "members", d.revokeInvitation)

	d.page(w+"/settings", viewer, "settings", d.settings)
	d.action(w+"/settings", admin, "settings", d.saveSettings)
	d.action(w+"/access", admin, "settings", d.saveAccess)
	d.action(w+"/access/invite", admin, "settings", d.invitePageReader)
	d.action(w+"/access/invites/{id}/delete", admin, "settings", d.uninvitePageReader)
	d.action(w+"/delete", owner, "settings", d.deleteWorkspace)
	d.page(w+"/audit", admin, "audit", d.audit)
}

// staticFiles serves the embedded stylesheet and script, cached for a day.
func staticFiles(root fs.FS) http.Handler {
	fsrv := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

// deleteOf is the action that deletes the workspace's thing named by
// {id} with del, audited as action on target, then goes to next.
func (d *Dashboard) deleteOf(action, target string, del func(*store.Tx, context.Context, string, string) error, flash, next string) actionFunc {
	return func(r *http.Request, c *reqCtx) (string, error) {
		err := d.audited(r, c, action, target, func(tx *store.Tx) (string, any, error) {
			return r.PathValue("id"), nil, del(tx, r.Context(), c.ws.ID, r.PathValue("id"))
		})
		c.flash = flash
		return next, err
	}
}
