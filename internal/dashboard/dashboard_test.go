package dashboard_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/account"
	"github.com/stormwatch/stormwatch/internal/dashboard"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// cheap keeps argon2id fast in tests; the parameters are not what is
// under test here.
var cheap = account.Params{Memory: 64, Time: 1, Threads: 1}

type site struct {
	t   testing.TB
	st  *store.Store
	d   *dashboard.Dashboard
	srv *httptest.Server
}

func newSite(t testing.TB, st *store.Store) *site {
	t.Helper()
	d, err := dashboard.New(dashboard.Deps{Store: st, Log: slog.New(slog.DiscardHandler), BaseURL: "http://status.test",
		Key: []byte("test key"), Passwords: cheap})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return &site{t: t, st: st, d: d, srv: srv}
}

// browser is one person's cookie jar on the dashboard.
type browser struct {
	s    *site
	c    *http.Client
	csrf string
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (int, string, string) {
	b.s.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return res.StatusCode, string(body), res.Header.Get("Location")
}

func (b *browser) get(path string) (int, string) {
	b.s.t.Helper()
	req, _ := http.NewRequest("GET", b.s.srv.URL+path, nil)
	code, body, _ := b.do(req)
	return code, body
}

// post sends a form with the anti-forgery token of the last page seen.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) upload(path string, fields map[string]string, file, name string, data []byte) (int, string) {
	b.s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile(file, name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	code, body, _ := b.do(req)
	return code, body
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

const password = "correct horse battery"

// setUp runs first-run setup as a new person would and returns the owner's
// browser, signed in to workspace acme.
func (s *site) setUp() *browser {
	s.t.Helper()
	link, err := dashboard.SetupLink(context.Background(), s.st, "http://status.test")
	if err != nil || link == "" {
		s.t.Fatalf("setup link %q, %v", link, err)
	}
	u, _ := url.Parse(link)
	owner := s.browser()
	code, body := owner.get("/admin/setup?" + u.RawQuery)
	if code != 200 || !strings.Contains(body, `id="setup-form"`) {
		s.t.Fatalf("setup page %d:\n%s", code, body)
	}
	code, _, loc := owner.post("/admin/setup", form("token", u.Query().Get("token"), "name", "Olga Owner", "email", "owner@example.com",
		"password", password, "password2", password, "workspace", "Acme Games", "slug", "acme"))
	if code != http.StatusSeeOther || loc != "/admin/w/acme/components" {
		s.t.Fatalf("setup answered %d to %q", code, loc)
	}
	owner.get("/admin/w/acme/")
	return owner
}

// join invites address into workspace acme with role and accepts as a new
// account; it returns that person's signed-in browser.
func (s *site) join(by *browser, ws, email string, role sw.Role) *browser {
	s.t.Helper()
	by.get("/admin/w/" + ws + "/members")
	code, body, _ := by.post("/admin/w/"+ws+"/members/invite", form("email", email, "role", string(role)))
	m := regexp.MustCompile(`http://status\.test(/admin/invite/swl_[A-Za-z0-9]+)`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		s.t.Fatalf("invite %s answered %d:\n%s", email, code, body)
	}
	who := s.browser()
	if code, body := who.get(m[1]); code != 200 || !strings.Contains(body, "as <strong>"+string(role)) {
		s.t.Fatalf("invitation page %d:\n%s", code, body)
	}
	code, _, loc := who.post(m[1], form("name", email, "password", password, "password2", password))
	if code != http.StatusSeeOther || loc != "/admin/w/"+ws+"/" {
		s.t.Fatalf("accepting answered %d to %q", code, loc)
	}
	// The link works once.
	if code, _, _ := s.browser().post(m[1], form("name", "x", "password", password, "password2", password)); code != http.StatusForbidden {
		s.t.Errorf("second use of an invitation answered %d", code)
	}
	who.get("/admin/w/" + ws + "/")
	return who
}

func TestSetupSignInAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newSite(t, st)
		anon := s.browser()
		if code, body := anon.get("/admin/login"); code != 200 || !strings.Contains(body, "Nobody has an account yet") {
			t.Fatalf("login before setup %d:\n%s", code, body)
		}
		// A made-up setup token shows no form.
		if _, body := anon.get("/admin/setup?token=swl_" + strings.Repeat("a", 32)); strings.Contains(body, `id="setup-form"`) {
			t.Error("a made-up setup token shows the form")
		}
		owner := s.setUp()
		if link, _ := dashboard.SetupLink(context.Background(), st, "http://status.test"); link != "" {
			t.Errorf("a setup link after setup: %s", link)
		}
		if code, body := owner.get("/admin/"); code != 200 || !strings.Contains(body, "Acme Games") {
			t.Fatalf("home %d:\n%s", code, body)
		}

		// Wrong passwords: the same answer for known and unknown addresses,
		// then the address is locked for a while, even with the right one.
		for _, email := range []string{"owner@example.com", "nobody@example.com"} {
			code, body, _ := anon.post("/admin/login", form("email", email, "password", "wrong password"))
			if code != http.StatusUnauthorized || !strings.Contains(body, "do not match an account") {
				t.Fatalf("wrong password for %s: %d", email, code)
			}
		}
		for range 4 {
			anon.post("/admin/login", form("email", "Owner@Example.com", "password", "wrong password"))
		}
		if code, body, _ := anon.post("/admin/login", form("email", "owner@example.com", "password", password)); code != http.StatusTooManyRequests ||
			!strings.Contains(body, "Too many failed sign-ins") {
			t.Fatalf("sign-in after 5 failures answered %d", code)
		}
		if code, _, _ := s.browser().post("/admin/login", form("email", "other@example.com", "password", "x")); code != http.StatusUnauthorized {
			t.Errorf("another address is locked too: %d", code)
		}

		// Signing out ends the session for good.
		owner.post("/admin/logout", nil)
		if code, _ := owner.get("/admin/w/acme/"); code != http.StatusSeeOther {
			t.Errorf("after sign-out the dashboard answered %d", code)
		}
	})
}

func TestFormsNeedTheirToken(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	other := s.browser()
	other.post("/admin/login", form("email", "owner@example.com", "password", password))
	other.get("/admin/w/acme/")
	owner.get("/admin/w/acme/components")
	tests := []struct {
		name   string
		csrf   string
		header string
		want   int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"token of another session", other.csrf, "", http.StatusForbidden},
		{"cross-site post", owner.csrf, "cross-site", http.StatusForbidden},
		{"own token", owner.csrf, "same-origin", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := form("name", "Comp "+tt.name, "csrf", tt.csrf)
			req, _ := http.NewRequest("POST", s.srv.URL+"/admin/w/acme/components", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.header != "" {
				req.Header.Set("Sec-Fetch-Site", tt.header)
			}
			if code, _, _ := owner.do(req); code != tt.want {
				t.Fatalf("answered %d, want %d", code, tt.want)
			}
		})
	}
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	comps, _, _ := s.st.Components(context.Background(), ws.ID, store.Page{})
	if len(comps) != 1 {
		t.Errorf("%d components made, want only the one with its own token", len(comps))
	}
}

// fill puts a role test's values into an action pattern.
func fill(pattern string) string {
	r := strings.NewReplacer("{ws}", "acme", "{id}", "x_1", "{user}", "usr_1", "{hash}", "h1")
	return r.Replace(pattern)
}

func TestRolesAreEnforcedOnEveryAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newSite(t, st)
		owner := s.setUp()
		viewer := s.join(owner, "acme", "viewer@example.com", sw.RoleViewer)
		editor := s.join(owner, "acme", "editor@example.com", sw.RoleEditor)
		admin := s.join(owner, "acme", "admin@example.com", sw.RoleAdmin)
		ctx := context.Background()
		ws, _ := st.WorkspaceBySlug(ctx, "acme")
		before, _, _ := st.AuditLog(ctx, ws.ID, store.Page{Limit: 200})

		people := []struct {
			name string
			b    *browser
			role sw.Role
		}{{"viewer", viewer, sw.RoleViewer}, {"editor", editor, sw.RoleEditor}, {"admin", admin, sw.RoleAdmin}}
		checked := 0
		for _, p := range people {
			for _, a := range s.d.Actions() {
				if p.role.AtLeast(a.MinRole) {
					continue
				}
				checked++
				code, body, _ := p.b.post(fill(a.Pattern), form("name", "x", "email", "x@example.com", "role", "owner", "confirm", "acme"))
				if code != http.StatusForbidden || !strings.Contains(body, "this needs "+string(a.MinRole)) {
					t.Errorf("%s POST %s answered %d, want 403", p.name, a.Pattern, code)
				}
			}
		}
		if checked < 40 {
			t.Fatalf("only %d forbidden actions checked", checked)
		}
		after, _, _ := st.AuditLog(ctx, ws.ID, store.Page{Limit: 200})
		if len(after) != len(before) {
			t.Errorf("forbidden posts changed something: audit log went from %d to %d entries", len(before), len(after))
		}

		// What the screens offer follows the role, too.
		_, body := viewer.get("/admin/w/acme/components")
		if strings.Contains(body, `id="new-component"`) {
			t.Error("a viewer is offered the new component form")
		}
		if code, _ := viewer.get("/admin/w/acme/subscribers"); code != http.StatusForbidden {
			t.Errorf("a viewer sees subscribers' addresses: %d", code)
		}
		_, body = editor.get("/admin/w/acme/members")
		if strings.Contains(body, `id="invite-form"`) {
			t.Error("an editor is offered the invitation form")
		}
		if code, _ := editor.get("/admin/w/acme/keys"); code != http.StatusForbidden {
			t.Errorf("an editor sees API keys: %d", code)
		}
		// An editor does what editors do.
		editor.get("/admin/w/acme/components")
		if code, _, _ := editor.post("/admin/w/acme/components", form("name", "Website")); code != http.StatusSeeOther {
			t.Errorf("an editor cannot add a component: %d", code)
		}
		// Admins do not make owners; owners do.
		admin.get("/admin/w/acme/members")
		if code, body, _ := admin.post("/admin/w/acme/members/invite", form("email", "boss@example.com", "role", "owner")); code != http.StatusUnprocessableEntity ||
			!strings.Contains(body, "Only owners invite owners") {
			t.Errorf("an admin invites an owner: %d", code)
		}
		// The last owner stays one.
		owner.get("/admin/w/acme/members")
		members, _ := st.Members(ctx, ws.ID)
		var ownerID string
		for _, m := range members {
			if m.Role == sw.RoleOwner {
				ownerID = m.ID
			}
		}
		if code, body, _ := owner.post("/admin/w/acme/members/"+ownerID+"/role", form("role", "viewer")); code != http.StatusUnprocessableEntity ||
			!strings.Contains(body, "at least one owner") {
			t.Errorf("the last owner demoted themselves: %d", code)
		}
	})
}

func TestWorkspacesAreIsolated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newSite(t, st)
		owner := s.setUp()
		ctx := context.Background()
		// A second client workspace, with its own owner who is nobody in acme.
		owner.get("/admin/")
		if code, _, loc := owner.post("/admin/workspaces", form("name", "Globex Hosting", "slug", "globex")); code != http.StatusSeeOther ||
			loc != "/admin/w/globex/components" {
			t.Fatalf("new workspace answered %d to %q", code, loc)
		}
		owner.get("/admin/w/globex/components")
		owner.post("/admin/w/globex/components", form("name", "Globex secret cluster", "slug", "globex-secret"))
		stranger := s.join(owner, "globex", "globex@example.com", sw.RoleOwner)
		owner.get("/admin/w/acme/components")
		owner.post("/admin/w/acme/components", form("name", "Acme secret cluster", "slug", "acme-secret"))

		acme, _ := st.WorkspaceBySlug(ctx, "acme")
		acmeComp, err := st.Component(ctx, acme.ID, "acme-secret")
		if err != nil {
			t.Fatal(err)
		}
		// The Globex owner sees nothing of Acme by any road.
		for _, path := range []string{"/admin/w/acme/", "/admin/w/acme/components", "/admin/w/acme/components/" + acmeComp.ID, "/admin/w/acme/members"} {
			if code, body := stranger.get(path); code != http.StatusNotFound || strings.Contains(body, "Acme secret") {
				t.Errorf("GET %s by a stranger answered %d", path, code)
			}
		}
		stranger.get("/admin/w/globex/components")
		for _, path := range []string{"/admin/w/acme/components", "/admin/w/acme/components/" + acmeComp.ID + "/delete", "/admin/w/acme/members/invite"} {
			if code, _, _ := stranger.post(path, form("name", "x", "email", "me@example.com", "role", "owner")); code != http.StatusNotFound {
				t.Errorf("POST %s by a stranger answered %d", path, code)
			}
		}
		// Acme's id through Globex's own URLs is not found either.
		if code, _ := stranger.get("/admin/w/globex/components/" + acmeComp.ID); code != http.StatusNotFound {
			t.Errorf("Acme's component through Globex's URL answered %d", code)
		}
		if code, _, _ := stranger.post("/admin/w/globex/components/"+acmeComp.ID+"/delete", nil); code != http.StatusNotFound {
			t.Errorf("deleting Acme's component through Globex's URL answered %d", code)
		}
		if _, err := st.Component(ctx, acme.ID, acmeComp.ID); err != nil {
			t.Errorf("Acme's component is gone: %v", err)
		}
		_, home := stranger.get("/admin/")
		if strings.Contains(home, "Acme Games") || !strings.Contains(home, "Globex Hosting") {
			t.Errorf("the stranger's workspace list:\n%s", home)
		}
		// Only operators make workspaces.
		if code, _, _ := stranger.post("/admin/workspaces", form("name", "Mine")); code != http.StatusForbidden {
			t.Errorf("a non-operator made a workspace: %d", code)
		}
	})
}

func TestRulesEditorShowsErrorsAtTheirLine(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	_, screen := owner.get("/admin/w/acme/rules")
	if !strings.Contains(html.UnescapeString(screen), rules.Precedence) || strings.Contains(screen, "first match wins") {
		t.Error("the rules screen does not say how rules combine as the engine does")
	}
	good := "severity >= high -> publish immediately\n"
	if code, _, _ := owner.post("/admin/w/acme/rules", form("rules", good)); code != http.StatusSeeOther {
		t.Fatalf("saving good rules answered %d", code)
	}
	bad := "# comment\nseverity >= high -> publish immediately\nseverty >= low -> publish immediately\n"
	code, body, _ := owner.post("/admin/w/acme/rules", form("rules", bad))
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad rules answered %d", code)
	}
	if !regexp.MustCompile(`class="rule-error" data-line="3" data-col="\d+"`).MatchString(body) || !strings.Contains(body, "Line 3, column") {
		t.Errorf("no error at line 3:\n%s", body)
	}
	if !strings.Contains(body, "severty &gt;= low -&gt; publish immediately") {
		t.Error("the refused text is not shown back")
	}
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	if text, _, _, _ := s.st.RuleText(context.Background(), ws.ID); text != good {
		t.Errorf("rules in force changed to %q", text)
	}
	// The dry run says which rule fires, without saving.
	owner.get("/admin/w/acme/rules")
	code, body, _ = owner.post("/admin/w/acme/rules/check", form("rules", "severity >= critical -> publish immediately\nseverity >= medium -> do not publish\n",
		"attack", "udp_flood", "severity", "high", "pps", "100", "bps", "100", "duration", "1m"))
	if code != 200 || !strings.Contains(body, `id="decided-rule">severity &gt;= medium -&gt; do not publish</code>`) || !strings.Contains(body, "line 2") {
		t.Errorf("dry run answered %d:\n%s", code, body)
	}
	if text, _, _, _ := s.st.RuleText(context.Background(), ws.ID); text != good {
		t.Errorf("a dry run saved the rules: %q", text)
	}
}

// png is a 1×1 PNG.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func TestBrandingUpload(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	ctx := context.Background()
	tests := []struct {
		name, file string
		data       []byte
		want       int
		ct         string
	}{
		{"png", "logo.png", png, http.StatusSeeOther, "image/png"},
		{"svg", "logo.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), http.StatusSeeOther, "image/svg+xml"},
		{"html named png", "logo.png", []byte("<html><script>alert(1)</script></html>"), http.StatusUnprocessableEntity, ""},
		{"too large", "big.png", append(append([]byte{}, png...), make([]byte, 600<<10)...), http.StatusUnprocessableEntity, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner.get("/admin/w/acme/branding")
			code, body := owner.upload("/admin/w/acme/branding", map[string]string{"page_title": "Acme status", "brand_color": "#ff6600"}, "logo", tt.file, tt.data)
			if code != tt.want {
				t.Fatalf("upload answered %d, want %d:\n%s", code, tt.want, body)
			}
			if tt.ct == "" {
				return
			}
			ws, _ := s.st.WorkspaceBySlug(ctx, "acme")
			prefix := "http://status.test/s/acme/assets/"
			if !strings.HasPrefix(ws.Branding.LogoURL, prefix) || ws.Branding.BrandColor != "#ff6600" {
				t.Fatalf("branding %+v", ws.Branding)
			}
			a, err := s.st.Asset(ctx, ws.ID, strings.TrimPrefix(ws.Branding.LogoURL, prefix))
			if err != nil || a.ContentType != tt.ct || !bytes.Equal(a.Data, tt.data) {
				t.Fatalf("asset %v, %v", a, err)
			}
		})
	}
}

func TestChangePasswordSignsOutOtherSessions(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	laptop := s.browser()
	if code, _, _ := laptop.post("/admin/login", form("email", "owner@example.com", "password", password)); code != http.StatusSeeOther {
		t.Fatalf("second sign-in answered %d", code)
	}
	owner.get("/admin/account")
	if code, body, _ := owner.post("/admin/account", form("name", "Olga", "current", "not it", "password", "a new password", "password2", "a new password")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "current: is not your current password") {
		t.Fatalf("wrong current password answered %d", code)
	}
	if code, _, _ := owner.post("/admin/account", form("name", "Olga", "current", password, "password", "a new password", "password2", "a new password")); code != http.StatusSeeOther {
		t.Fatalf("password change answered %d", code)
	}
	if code, _ := owner.get("/admin/account"); code != 200 {
		t.Errorf("the session that changed the password was signed out: %d", code)
	}
	if code, _ := laptop.get("/admin/account"); code != http.StatusSeeOther {
		t.Errorf("another session survived the password change: %d", code)
	}
	if code, _, _ := s.browser().post("/admin/login", form("email", "owner@example.com", "password", "a new password")); code != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: %d", code)
	}
}

func TestDomainAndMailRecordsAreShown(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	owner.get("/admin/w/acme/domains")
	if code, body, _ := owner.post("/admin/w/acme/domains", form("hostname", "Not a host!")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "hostname: must be a domain name") {
		t.Errorf("bad hostname answered %d", code)
	}
	if code, _, _ := owner.post("/admin/w/acme/domains", form("hostname", "status.example.com")); code != http.StatusSeeOther {
		t.Fatalf("add domain answered %d", code)
	}
	_, body := owner.get("/admin/w/acme/domains")
	for _, want := range []string{`<code>status.example.com.</code></td><td><code class="cname-target">status.test.</code>`,
		"<code>_stormwatch.status.example.com.</code>", `"stormwatch-verify=`, "waiting for DNS", "after verification"} {
		if !strings.Contains(body, want) {
			t.Errorf("domains page lacks %q:\n%s", want, body)
		}
	}
	owner.get("/admin/w/acme/settings")
	if code, _, _ := owner.post("/admin/w/acme/settings", form("name", "Acme Games", "timezone", "Europe/Berlin", "mail_from", "status@acme.example")); code != http.StatusSeeOther {
		t.Fatalf("settings answered %d", code)
	}
	_, body = owner.get("/admin/w/acme/settings")
	if !regexp.MustCompile(`id="dkim-name">sw\d{6}\._domainkey\.acme\.example\.</code>`).MatchString(body) || !strings.Contains(body, "v=DKIM1; k=rsa; p=") {
		t.Errorf("settings page shows no DKIM record:\n%s", body)
	}
}

func TestAddSubscribers(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	owner.get("/admin/w/acme/components")
	owner.post("/admin/w/acme/components", form("name", "Edge", "slug", "edge"))
	owner.get("/admin/w/acme/subscribers")
	if code, body, _ := owner.post("/admin/w/acme/subscribers", form("type", "email", "address", "not an address")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "email: must be a plain email address") {
		t.Errorf("bad address answered %d", code)
	}
	if code, _, _ := owner.post("/admin/w/acme/subscribers", form("type", "email", "address", "ops@example.com", "components", "edge")); code != http.StatusSeeOther {
		t.Fatalf("add email answered %d", code)
	}
	// Webhooks to internal addresses are refused (SSRF); the secret of a
	// good one is shown once.
	if code, body, _ := owner.post("/admin/w/acme/subscribers", form("type", "webhook", "address", "http://127.0.0.1/hook")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Not done") {
		t.Errorf("loopback webhook answered %d", code)
	}
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	subs, _, _ := s.st.Subscribers(context.Background(), ws.ID, store.SubscriberFilter{}, store.Page{})
	if len(subs) != 1 || subs[0].Email != "ops@example.com" || subs[0].ConfirmedAt != nil || len(subs[0].Components) != 1 {
		t.Errorf("subscribers: %+v", subs)
	}
}

func TestAddChecks(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	owner.get("/admin/w/acme/components")
	owner.post("/admin/w/acme/components", form("name", "Web", "slug", "web"))
	owner.get("/admin/w/acme/checks")
	// The server does not probe internal addresses for a tenant (SSRF).
	if code, body, _ := owner.post("/admin/w/acme/checks", form("component", "web", "name", "lan", "type", "tcp", "target", "10.1.2.3:22", "where", "server")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "give the check a node") {
		t.Errorf("internal server check answered %d", code)
	}
	if code, body, _ := owner.post("/admin/w/acme/checks", form("component", "web", "name", "web", "type", "http", "target", "https://www.example.com/",
		"interval", "soon", "where", "all")); code != http.StatusUnprocessableEntity || !strings.Contains(body, "interval") {
		t.Errorf("bad interval answered %d", code)
	}
	if code, _, _ := owner.post("/admin/w/acme/checks", form("component", "web", "name", "web https", "type", "http", "target", "https://www.example.com/",
		"interval", "1m", "failures", "2", "where", "all", "body_match", "Welcome")); code != http.StatusSeeOther {
		t.Fatalf("add check answered %d", code)
	}
	code, body := owner.get("/admin/w/acme/checks")
	if code != 200 || !strings.Contains(body, "web https") || !strings.Contains(body, "every 1m0s, down after 2") || !strings.Contains(body, "no result yet") {
		t.Fatalf("checks page %d lacks the check:\n%s", code, body)
	}
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	checks, _, _ := s.st.Checks(context.Background(), ws.ID, store.Page{})
	if len(checks) != 1 || checks[0].BodyMatch != "Welcome" || len(checks[0].Nodes) != 1 || checks[0].Nodes[0] != "*" {
		t.Fatalf("checks: %+v", checks)
	}
	if code, _, _ := owner.post("/admin/w/acme/checks/"+checks[0].ID+"/delete", form()); code != http.StatusSeeOther {
		t.Fatalf("delete answered %d", code)
	}
	if checks, _, _ := s.st.Checks(context.Background(), ws.ID, store.Page{}); len(checks) != 0 {
		t.Fatalf("deleted check remains: %+v", checks)
	}
}

func TestIncidentFromTemplate(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	owner.get("/admin/w/acme/components")
	owner.post("/admin/w/acme/components", form("name", "Web", "slug", "web"))
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	err := s.st.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.SaveIncidentTemplate(context.Background(), &sw.IncidentTemplate{WorkspaceID: ws.ID, Name: "db", Title: "Database maintenance overran",
			Message: "We are finishing the database upgrade.", Impact: sw.ImpactMinor, Components: map[string]sw.ComponentStatus{"web": sw.DegradedPerformance}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := owner.get("/admin/w/acme/incidents"); !strings.Contains(body, `id="from-template"`) || !strings.Contains(body, "Database maintenance overran") {
		t.Fatal("the incidents screen offers no template")
	}
	if code, _, _ := owner.post("/admin/w/acme/incidents", form("template", "db")); code != http.StatusSeeOther {
		t.Fatalf("publish from template answered %d", code)
	}
	incs, _, _ := s.st.Incidents(context.Background(), ws.ID, store.IncidentFilter{}, store.Page{})
	if len(incs) != 1 || incs[0].Title != "Database maintenance overran" || len(incs[0].Components) != 1 || incs[0].Components[0].Status != sw.DegradedPerformance {
		t.Fatalf("incidents = %+v", incs)
	}
}

func TestEmbedSnippets(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	code, body := owner.get("/admin/w/acme/branding")
	for _, want := range []string{`/s/acme/badge.svg`, `/s/acme/embed.js`, `/s/acme/embed"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("the settings screen lacks the snippet %s", want)
		}
	}
	if strings.Contains(body, "acme//") {
		t.Error("a snippet has a double slash")
	}
}

// TestLanguageAndPageAccess: the settings screen sets the page's
// language and who may read it; a component can be private.
func TestLanguageAndPageAccess(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	if _, body := owner.get("/admin/w/acme/settings"); !strings.Contains(body, `id="access-form"`) || !strings.Contains(body, "Українська") {
		t.Fatal("the settings screen has no language or access form")
	}
	if code, _, _ := owner.post("/admin/w/acme/settings", form("name", "Acme Games", "timezone", "Europe/Berlin", "language", "de")); code != http.StatusSeeOther {
		t.Fatalf("settings: %d", code)
	}
	if code, body, _ := owner.post("/admin/w/acme/access", form("private", "1", "password", "short")); code == http.StatusSeeOther || !strings.Contains(body, "10 to 200") {
		t.Errorf("a short password: %d", code)
	}
	if code, body, _ := owner.post("/admin/w/acme/access", form("private", "1", "password", "correct horse battery", "ip_ranges", "203.0.113.0/24\n2001:db8::/32")); code != http.StatusSeeOther {
		t.Fatalf("access: %d %s", code, body)
	}
	if code, body, _ := owner.post("/admin/w/acme/access", form("ip_ranges", "203.0.113.7/24")); code == http.StatusSeeOther || !strings.Contains(body, "address range") {
		t.Errorf("a range with host bits: %d", code)
	}
	owner.get("/admin/w/acme/components")
	owner.post("/admin/w/acme/components", form("name", "Billing DB", "slug", "billing-db", "private", "1"))
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	if ws.Language != "de" || !ws.Access.Private || !ws.Access.HasPassword || len(ws.Access.IPRanges) != 2 {
		t.Errorf("workspace after the forms: language %q access %+v", ws.Language, ws.Access)
	}
	if c, err := s.st.Component(context.Background(), ws.ID, "billing-db"); err != nil || !c.Private {
		t.Errorf("the component is not private: %+v %v", c, err)
	}
	if _, body := owner.get("/admin/w/acme/settings"); !strings.Contains(body, "Invitations need mail") {
		t.Error("without SMTP the screen should say invitations need mail")
	}
}

// TestNodeMitigationPolicyForm: the node screen takes a mitigation policy
// as JSON, refuses a bad one naming it, and empty removes it.
func TestNodeMitigationPolicyForm(t *testing.T) {
	s := newSite(t, storetest.Open(t, store.SQLite))
	owner := s.setUp()
	owner.get("/admin/w/acme/nodes")
	owner.post("/admin/w/acme/nodes", form("name", "edge-1"))
	ws, _ := s.st.WorkspaceBySlug(context.Background(), "acme")
	nodes, _, err := s.st.Nodes(context.Background(), ws.ID, store.Page{})
	if err != nil || len(nodes) != 1 {
		t.Fatal(nodes, err)
	}
	path := "/admin/w/acme/nodes/" + nodes[0].ID
	owner.get(path)
	if code, body, _ := owner.post(path, form("name", "edge-1", "mitigation_policy", `{"rules":[{"min_severity":"giant"}]}`)); code == http.StatusSeeOther ||
		!strings.Contains(body, "min_severity") {
		t.Errorf("a bad policy: %d", code)
	}
	if code, _, _ := owner.post(path, form("name", "edge-1", "mitigation_policy", `{"rules":[{"min_severity":"high","flowspec":true}],"hold":"1m"}`)); code != http.StatusSeeOther {
		t.Fatalf("a good policy: %d", code)
	}
	n, _ := s.st.Node(context.Background(), ws.ID, nodes[0].ID)
	if !strings.Contains(string(n.MitigationPolicy), `"hold":"1m0s"`) {
		t.Errorf("stored policy %s", n.MitigationPolicy)
	}
	owner.get(path)
	owner.post(path, form("name", "edge-1", "mitigation_policy", ""))
	if n, _ := s.st.Node(context.Background(), ws.ID, nodes[0].ID); n.MitigationPolicy != nil {
		t.Errorf("the policy was not removed: %s", n.MitigationPolicy)
	}
}
