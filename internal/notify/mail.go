package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
)

// Mail is a rendered message, before it meets an SMTP library: pure data,
// so that tests compare it with golden files.
type Mail struct {
	From, FromName, To, Subject string
	// MessageID, InReplyTo and References thread every mail of one
	// incident or window together (without angle brackets).
	MessageID, InReplyTo string
	// Unsubscribe is the RFC 8058 one-click URL (List-Unsubscribe with
	// List-Unsubscribe-Post); empty on the double opt-in mail.
	Unsubscribe string
	ListID      string
	Text, HTML  string
	// DKIM, when set, signs the mail for the workspace's own domain.
	DKIM *DKIM
}

// MailContext is what a mail is composed with besides its event.
type MailContext struct {
	Workspace *sw.Workspace
	// Components are the workspace's components as they are now, for the
	// footer.
	Components []sw.Component
	// Root is the page root the subscriber knows (no trailing slash).
	Root  string
	From  string
	Links Links
	Now   time.Time
}

//go:embed templates
var templateFS embed.FS

var (
	textMail = texttemplate.Must(texttemplate.New("mail.txt").ParseFS(templateFS, "templates/mail.txt"))
	htmlMail = htmltemplate.Must(htmltemplate.New("mail.html").ParseFS(templateFS, "templates/mail.html"))
)

type mailView struct {
	// L speaks the subscriber's language.
	L                                   *locale.Locale
	PageName, BrandColor, LogoURL, Root string
	Kind                                string
	Heading, Title, Message, Link       string
	When                                string
	Affected                            []string
	ConfirmURL                          string
	ManageURL, UnsubscribeURL           string
	Footer                              []sw.Component
	// ActionURL and ActionLabel are the mail's one button (an invitation).
	ActionURL, ActionLabel string
}

// Label is a status in the mail's language.
func (v *mailView) Label(status string) string { return v.L.T(sw.StatusLabel(status)) }

// ComposeMail renders event ev for email subscriber sub as delivery id.
func ComposeMail(ev *sw.NotificationEvent, id string, sub *sw.Subscriber, mc MailContext) (*Mail, error) {
	host := "stormwatch.invalid"
	if u, err := url.Parse(mc.Root); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	loc, err := time.LoadLocation(mc.Workspace.Timezone)
	if err != nil {
		loc = time.UTC
	}
	// A subscriber hears in the language they subscribed in; older
	// subscribers in the page's.
	l := locale.Or(mc.Workspace.Language)
	if sub.Language != "" {
		l = locale.Or(sub.Language)
	}
	when := func(t time.Time) string { return l.DateTime(t.In(loc)) }
	m := &Mail{From: mc.From, FromName: mc.Workspace.PageName(), To: sub.Email, MessageID: id + "@" + host,
		ListID: mc.Workspace.Slug + ".status." + host}
	v := mailView{L: l, PageName: mc.Workspace.PageName(), BrandColor: mc.Workspace.Branding.BrandColor, LogoURL: mc.Workspace.Branding.LogoURL,
		Root: mc.Root, Kind: ev.Kind, Footer: mc.Components,
		ManageURL: mc.Links.Manage(mc.Root, sub.ID), UnsubscribeURL: mc.Links.Unsubscribe(mc.Root, sub.ID)}
	// The first mail about a subject has a Message-ID every later one can
	// name before it exists: the subject and subscriber ids.
	thread := func(subject string, first bool) {
		root := subject + "." + sub.ID + "@" + host
		if first {
			m.MessageID = root
		} else {
			m.InReplyTo = root
		}
	}
	switch {
	case ev.Kind == sw.EventSubscriptionConfirm:
		m.Subject = l.T("Confirm your subscription to %s", v.PageName)
		v.Heading, v.Title = l.T("Confirm your subscription"), v.PageName
		v.ConfirmURL = mc.Links.Confirm(mc.Root, sub.ID, mc.Now)
		v.ManageURL, v.UnsubscribeURL = "", ""
	case ev.Incident != nil:
		inc := ev.Incident
		v.Heading, v.Title, v.Message = v.Label(string(inc.Status)), inc.TitleTranslations.In(l.Code, inc.Title), LatestMessageIn(inc, l.Code)
		v.Link, v.When = mc.Root+"/incidents/"+inc.ID, when(inc.CreatedAt)
		for _, c := range inc.Components {
			v.Affected = append(v.Affected, c.Name+": "+v.Label(string(c.Status)))
		}
		m.Subject = "[" + v.Heading + "] " + v.Title
		thread(inc.ID, ev.Kind == sw.EventIncidentCreated)
		m.Unsubscribe = v.UnsubscribeURL
	case ev.Maintenance != nil:
		mt := ev.Maintenance
		v.Title, v.Message, v.Link = mt.Title, mt.Message, mc.Root+"/maintenance/"+mt.ID
		v.When = when(mt.StartsAt) + " – " + when(mt.EndsAt)
		names := map[string]string{}
		for _, c := range mc.Components {
			names[c.Slug] = c.Name
		}
		for _, slug := range mt.Components {
			if n, ok := names[slug]; ok {
				v.Affected = append(v.Affected, n)
			}
		}
		switch ev.Kind {
		case sw.EventMaintenanceScheduled:
			v.Heading = l.T("Scheduled maintenance")
		case sw.EventMaintenanceReminder:
			v.Heading = l.T("Maintenance in %s", ev.Reminder)
		case sw.EventMaintenanceStarted:
			v.Heading = l.T("Maintenance started")
		default:
			v.Heading = l.T("Maintenance completed")
		}
		m.Subject = "[" + v.Heading + "] " + mt.Title
		thread(mt.ID, ev.Kind == sw.EventMaintenanceScheduled)
		m.Unsubscribe = v.UnsubscribeURL
	default:
		return nil, fmt.Errorf("event %s (%s) has nothing to mail", ev.ID, ev.Kind)
	}
	return m, render(m, &v)
}

// render writes v's text and HTML parts into m.
func render(m *Mail, v *mailView) error {
	var text, html bytes.Buffer
	if err := textMail.Execute(&text, v); err != nil {
		return fmt.Errorf("render mail text: %w", err)
	}
	if err := htmlMail.Execute(&html, v); err != nil {
		return fmt.Errorf("render mail html: %w", err)
	}
	m.Text, m.HTML = strings.TrimSpace(text.String())+"\n", html.String()
	return nil
}

// ComposeInvite renders the mail that gives address a link to workspace
// w's private page, in language lang.
func ComposeInvite(w *sw.Workspace, address, link, from, lang string) (*Mail, error) {
	l := locale.Or(lang)
	v := mailView{L: l, PageName: w.PageName(), BrandColor: w.Branding.BrandColor, LogoURL: w.Branding.LogoURL, Kind: "page.invite",
		Title:     l.T("Your link to %s", w.PageName()),
		Message:   l.T("You are invited to read the status page of %s. This link opens it in your browser for 7 days:", w.PageName()),
		ActionURL: link, ActionLabel: l.T("Open the status page")}
	m := &Mail{From: from, FromName: w.PageName(), To: address, Subject: v.Title, MessageID: sw.NewID("inv_") + "@stormwatch.invalid"}
	if u, err := url.Parse(link); err == nil && u.Hostname() != "" {
		m.MessageID = strings.TrimSuffix(m.MessageID, "stormwatch.invalid") + u.Hostname()
	}
	return m, render(m, &v)
}
