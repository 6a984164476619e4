package notify

import (
	"github.com/stormwatch/stormwatch/internal/goldentest"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// TestMailsInTheSubscribersLanguage: the same incident mailed to an
// English and a German subscriber, and an invitation; golden files hold
// both parts whole.
func TestMailsInTheSubscribersLanguage(t *testing.T) {
	at := time.Date(2026, 6, 7, 2, 14, 3, 0, time.UTC)
	ws := &sw.Workspace{ID: "ws_1", Slug: "acme", Name: "Acme Games", Timezone: "Europe/Berlin", Branding: sw.Branding{BrandColor: "#8250df"}}
	inc := &sw.Incident{ID: "inc_1", Title: "DDoS attack affecting Web", TitleTranslations: sw.Translations{"de": "DDoS-Angriff betrifft Web"},
		Status: sw.Investigating, Impact: sw.ImpactCritical, CreatedAt: at,
		Components: []sw.IncidentComponent{{Slug: "web", Name: "Web", Status: sw.MajorOutage}},
		Updates: []sw.IncidentUpdate{{Status: sw.Investigating, Message: "We are investigating an attack on Web (UDP flood).",
			MessageTranslations: sw.Translations{"de": "Wir untersuchen einen Angriff auf Web (UDP-Flood)."}, CreatedAt: at}}}
	ev := &sw.NotificationEvent{ID: "evt_1", Kind: sw.EventIncidentCreated, Incident: inc}
	mc := MailContext{Workspace: ws, Components: []sw.Component{{Slug: "web", Name: "Web", Status: sw.MajorOutage}, {Slug: "api", Name: "API", Status: sw.Operational}},
		Root: "https://status.acme.example", From: "status@acme.example", Links: Links{Key: []byte("k")}, Now: at}
	for _, lang := range []string{"", "de"} {
		m, err := ComposeMail(ev, "msg_1", &sw.Subscriber{ID: "sub_1", Type: sw.SubscriberEmail, Email: "a@example.com", Language: lang}, mc)
		if err != nil {
			t.Fatal(err)
		}
		name := "incident-" + map[string]string{"": "en", "de": "de"}[lang]
		goldentest.Check(t, name+".txt", []byte("Subject: "+m.Subject+"\n\n"+m.Text))
		goldentest.Check(t, name+".html", []byte(m.HTML))
	}
	m, err := ComposeInvite(ws, "ann@customer.example", "https://status.acme.example/access/link?a=ann&e=1&t=x", "status@acme.example", "de")
	if err != nil {
		t.Fatal(err)
	}
	goldentest.Check(t, "invite-de.txt", []byte("Subject: "+m.Subject+"\n\n"+m.Text))
}
