package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/store"
)

//go:embed templates static
var assets embed.FS

// view is what every template gets: who, where, what happened, and the
// page's own data.
type view struct {
	Name       string
	User       *sw.User
	CSRF       string
	WS         *sw.Workspace
	Role       sw.Role
	Workspaces []store.WorkspaceRole
	Flash      string
	Error      string
	ErrorField string
	Form       url.Values
	Shown      *shown
	Data       any
	Now        time.Time
}

// Can reports whether the user's role reaches min (owner, admin, editor,
// viewer), to hide what they may not do.
func (v *view) Can(min string) bool { return v.Role.AtLeast(sw.Role(min)) }

// Val is a posted value to put back in a form that was refused.
func (v *view) Val(name string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.Get(name)
}

// Base is the workspace's dashboard path.
func (v *view) Base() string {
	if v.WS == nil {
		return "/admin"
	}
	return "/admin/w/" + v.WS.Slug
}

var funcs = template.FuncMap{
	"label": sw.StatusLabel,
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"ago": func(now time.Time, t *time.Time) string {
		if t == nil {
			return "never"
		}
		return ago(now.Sub(*t))
	},
	"rate":     rate,
	"join":     strings.Join,
	"contains": slices.Contains[[]string],
	"statuses": func() []sw.ComponentStatus { return sw.ComponentStatuses },
	"impacts":  func() []sw.Impact { return sw.Impacts },
	"incidentStatuses": func() []sw.IncidentStatus {
		return sw.IncidentStatuses
	},
	"roles": func() []sw.Role { return sw.Roles },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"str":   func(v any) string { return fmt.Sprint(v) },
	"split": strings.Fields,
	"add":   func(a, b int) int { return a + b },
	"linkLabel": func(l []sw.FooterLink, i int) string {
		if i < len(l) {
			return l[i].Label
		}
		return ""
	},
	"linkURL": func(l []sw.FooterLink, i int) string {
		if i < len(l) {
			return l[i].URL
		}
		return ""
	},
	// detail reads one field of an audit entry's details.
	"detail": func(raw json.RawMessage, key string) string {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || m[key] == nil {
			return ""
		}
		return fmt.Sprint(m[key])
	},
}

// ago says how long ago, roughly, as people say it.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// rate prints a packet or bit rate with an SI prefix.
func rate(v uint64, unit string) string {
	f := float64(v)
	for _, p := range []string{"", "k", "M", "G", "T"} {
		if f < 1000 {
			if p == "" {
				return fmt.Sprintf("%.0f %s", f, unit)
			}
			return fmt.Sprintf("%.1f %s%s", f, p, unit)
		}
		f /= 1000
	}
	return fmt.Sprintf("%.1f P%s", f, unit)
}

// templates holds one template set per page: the layout with that page's
// "content".
var templates = func() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html"))
	out := map[string]*template.Template{}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(assets, n))
	}
	return out
}()

// render writes page name with data inside the layout.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, name string, data any) {
	v := &view{Name: name, User: c.user, WS: c.ws, Role: c.role, Form: c.form, Shown: c.shown, Data: data, Now: d.Now()}
	if c.token != "" {
		v.CSRF = account.CSRFToken(d.Key, c.token)
	}
	if c.user != nil {
		ws, err := d.Store.UserWorkspaces(r.Context(), c.user.ID)
		if err != nil {
			d.Log.ErrorContext(r.Context(), "list workspaces", "err", err)
		}
		v.Workspaces = ws
	}
	if c.formErr != nil {
		v.Error = c.formErr.Error()
		var verr *sw.ValidationError
		if errors.As(c.formErr, &verr) {
			v.ErrorField = verr.Field
		}
	}
	if status == http.StatusOK {
		v.Flash = d.takeFlash(w, r)
	}
	t, ok := templates[name]
	if !ok {
		d.Log.ErrorContext(r.Context(), "no template", "name", name)
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		d.Log.ErrorContext(r.Context(), "render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows a message page with status.
func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, msg string) {
	d.render(w, r, c, status, "error", map[string]any{"Status": status, "Message": msg})
}
