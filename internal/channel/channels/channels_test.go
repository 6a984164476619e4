package channels_test

import (
	"context"
	"strings"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
	"github.com/bwmarrin/discordgo"
	"github.com/slack-go/slack"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/channel/channels"
	"github.com/stormwatch/stormwatch/internal/channel/channeltest"
	"github.com/stormwatch/stormwatch/internal/channel/opsgenie"
	"github.com/stormwatch/stormwatch/internal/channel/telegram"
	"github.com/stormwatch/stormwatch/internal/notify"
)

const (
	botToken   = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	routingKey = "R0UT1NGK3Y0123456789abcdefABCDEF"
	apiKey     = "eb243592-faa2-4ba2-a551-1afdf565c889"
)

// lifecycle is an incident's life as the delivery worker puts it into
// messages: opened, identified, monitoring, resolved; hostile text in it.
func lifecycle() []*channel.Message {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	base := channel.Message{Page: "Acme Games", Title: "DDoS attack affecting <EU> & @everyone", Impact: sw.ImpactMajor, Severity: sw.SeverityHigh,
		Components: []string{"EU game 01", "Web"}, Link: "https://status.acme.test/incidents/inc_1", Subject: "inc_1"}
	var out []*channel.Message
	for i, step := range []struct {
		event, status, text string
		resolved            bool
	}{
		{sw.EventIncidentCreated, "Investigating", "We are investigating an attack on EU game 01 <b>now</b>.", false},
		{sw.EventIncidentUpdated, "Identified", "Mitigation is in place and filtering the attack traffic.", false},
		{sw.EventIncidentUpdated, "Monitoring", "Traffic is back to normal. We are monitoring.", false},
		{sw.EventIncidentResolved, "Resolved", "This incident has been resolved.", true},
	} {
		m := base
		m.Event, m.Status, m.Text, m.Resolved, m.At = step.event, step.status, step.text, step.resolved, at.Add(time.Duration(i)*time.Minute)
		out = append(out, &m)
	}
	return out
}

func senders(t *testing.T, recv map[string]*channeltest.Receiver) map[string]channel.Sender {
	e := channels.Endpoints{}
	for _, name := range []string{"telegram", "pagerduty", "opsgenie"} {
		if r := recv[name]; r != nil {
			if err := channels.ParseEndpoint(e, name+"="+r.URL); err != nil {
				t.Fatal(err)
			}
		}
	}
	return channels.New(channel.NewPoster(notify.NewWebhookSender(&notify.Guard{AllowPrivate: true}, 2*time.Second)), e)
}

func TestEveryChannelAgainstItsReceiver(t *testing.T) {
	tests := []struct {
		typ, kind string
		target    func(r *channeltest.Receiver) channel.Target
		check     func(t *testing.T, got []channeltest.Accepted)
	}{
		{sw.SubscriberSlack, channeltest.Slack, func(r *channeltest.Receiver) channel.Target { return channel.Target{URL: r.URL + "/services/T0/B0/x"} },
			func(t *testing.T, got []channeltest.Accepted) {
				m := got[0].Decoded.(*slack.WebhookMessage)
				h := m.Blocks.BlockSet[0].(*slack.HeaderBlock)
				if h.Text.Text != "[Investigating] DDoS attack affecting <EU> & @everyone" {
					t.Errorf("header = %q", h.Text.Text)
				}
				if text := m.Blocks.BlockSet[2].(*slack.SectionBlock).Text.Text; !strings.Contains(text, "&lt;b&gt;now&lt;/b&gt;") {
					t.Errorf("update text not escaped for mrkdwn: %q", text)
				}
				if btn := m.Blocks.BlockSet[3].(*slack.ActionBlock).Elements.ElementSet[0].(*slack.ButtonBlockElement); btn.URL != "https://status.acme.test/incidents/inc_1" {
					t.Errorf("button = %q", btn.URL)
				}
			}},
		{sw.SubscriberMattermost, channeltest.Compatible, func(r *channeltest.Receiver) channel.Target { return channel.Target{URL: r.URL + "/hooks/abc"} },
			func(t *testing.T, got []channeltest.Accepted) {
				if a := got[3].Decoded.(*slack.WebhookMessage).Attachments[0]; a.Color != "#1a7f37" || a.TitleLink == "" {
					t.Errorf("resolved attachment = %+v", a)
				}
			}},
		{sw.SubscriberRocketChat, channeltest.Compatible, func(r *channeltest.Receiver) channel.Target { return channel.Target{URL: r.URL + "/hooks/abc/def"} },
			func(t *testing.T, got []channeltest.Accepted) {
				if a := got[0].Decoded.(*slack.WebhookMessage).Attachments[0]; a.Color != "#e16f24" {
					t.Errorf("major impact colour = %s", a.Color)
				}
			}},
		{sw.SubscriberDiscord, channeltest.Discord, func(r *channeltest.Receiver) channel.Target {
			return channel.Target{URL: r.URL + "/api/webhooks/1/tok"}
		},
			func(t *testing.T, got []channeltest.Accepted) {
				e := got[0].Decoded.(*discordgo.WebhookParams).Embeds[0]
				if e.Color != 0xe16f24 || e.URL != "https://status.acme.test/incidents/inc_1" || got[0].Query != "wait=true" {
					t.Errorf("embed = %+v, query %q", e, got[0].Query)
				}
				if e := got[3].Decoded.(*discordgo.WebhookParams).Embeds[0]; e.Color != 0x1a7f37 {
					t.Errorf("resolved colour = %x", e.Color)
				}
			}},
		{sw.SubscriberTeams, channeltest.Teams, func(r *channeltest.Receiver) channel.Target { return channel.Target{URL: r.URL + "/workflows/x"} },
			func(t *testing.T, got []channeltest.Accepted) {
				c := got[0].Decoded.(*adaptivecard.Message).Attachments[0].Content
				if len(c.Actions) != 1 || c.Actions[0].URL != "https://status.acme.test/incidents/inc_1" {
					t.Errorf("card actions = %+v", c.Actions)
				}
			}},
		{sw.SubscriberTelegram, channeltest.Telegram, func(r *channeltest.Receiver) channel.Target {
			return channel.Target{Credential: botToken, ChatID: "-1001234567890"}
		}, func(t *testing.T, got []channeltest.Accepted) {
			first := got[0].Decoded.(*telegram.SendMessage)
			if first.ReplyParameters != nil || !strings.Contains(first.Text, "&lt;b&gt;now&lt;/b&gt;") || !strings.HasPrefix(got[0].Path, "/bot"+botToken) {
				t.Errorf("first message = %+v", first)
			}
			for _, a := range got[1:] {
				if m := a.Decoded.(*telegram.SendMessage); m.ReplyParameters == nil || m.ReplyParameters.MessageID != 1001 {
					t.Errorf("an update does not reply to the first message: %+v", m.ReplyParameters)
				}
			}
		}},
		{sw.SubscriberPagerDuty, channeltest.PagerDuty, func(r *channeltest.Receiver) channel.Target { return channel.Target{Credential: routingKey} },
			func(t *testing.T, got []channeltest.Accepted) {
				var actions []string
				for _, a := range got {
					e := a.Decoded.(*pd.V2Event)
					actions = append(actions, e.Action)
					if e.DedupKey != "stormwatch-inc_1" {
						t.Errorf("dedup key = %q", e.DedupKey)
					}
				}
				if strings.Join(actions, " ") != "trigger acknowledge acknowledge resolve" {
					t.Errorf("actions = %v", actions)
				}
				if s := got[0].Decoded.(*pd.V2Event).Payload.Severity; s != "error" {
					t.Errorf("major impact severity = %s", s)
				}
			}},
		{sw.SubscriberOpsgenie, channeltest.Opsgenie, func(r *channeltest.Receiver) channel.Target { return channel.Target{Credential: apiKey} },
			func(t *testing.T, got []channeltest.Accepted) {
				var paths []string
				for _, a := range got {
					paths = append(paths, a.Path)
				}
				if strings.Join(paths, " ") != "/v2/alerts /v2/alerts/stormwatch-inc_1/acknowledge /v2/alerts/stormwatch-inc_1/notes /v2/alerts/stormwatch-inc_1/close" {
					t.Errorf("requests = %v", paths)
				}
				if a := got[0].Decoded.(*opsgenie.CreateAlert); a.Priority != "P2" || a.Alias != "stormwatch-inc_1" {
					t.Errorf("alert = %+v", a)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			r := channeltest.New(t, tt.kind, 0)
			s := senders(t, map[string]*channeltest.Receiver{tt.typ: r})[tt.typ]
			target := tt.target(r)
			for i, m := range lifecycle() {
				res := s.Send(context.Background(), target, m)
				if res.Err != nil {
					t.Fatalf("message %d: %v", i, res.Err)
				}
				if i == 0 {
					target.Thread = res.Thread
				}
			}
			got := r.Accepted()
			if len(got) != 4 || r.Refused != 0 {
				t.Fatalf("%d accepted, %d refused, want 4 and 0", len(got), r.Refused)
			}
			tt.check(t, got)
			// The test button's sample is accepted too.
			if res := s.Send(context.Background(), target, channel.Sample("Acme Games", "https://status.acme.test")); res.Err != nil {
				t.Fatalf("sample: %v", res.Err)
			}
		})
	}
}

// A receiver's 500 is worth retrying, its 4xx refusal is not, and an
// internal address is refused before anything is sent.
func TestResultsClassify(t *testing.T) {
	r := channeltest.New(t, channeltest.Slack, 1)
	s := senders(t, nil)[sw.SubscriberSlack]
	m := lifecycle()[0]
	if res := s.Send(context.Background(), channel.Target{URL: r.URL}, m); res.Err == nil || res.Permanent || res.Status != 500 {
		t.Fatalf("500: %+v", res)
	}
	if res := s.Send(context.Background(), channel.Target{URL: r.URL}, m); res.Err != nil {
		t.Fatalf("after the 500: %+v", res)
	}
	pdRecv := channeltest.New(t, channeltest.PagerDuty, 0)
	pdSender := senders(t, map[string]*channeltest.Receiver{"pagerduty": pdRecv})[sw.SubscriberPagerDuty]
	if res := pdSender.Send(context.Background(), channel.Target{Credential: "short"}, m); res.Err == nil || !res.Permanent || res.Status != 400 {
		t.Fatalf("bad routing key: %+v", res)
	}
	guarded := channels.New(channel.NewPoster(notify.NewWebhookSender(&notify.Guard{}, time.Second)), nil)[sw.SubscriberDiscord]
	if res := guarded.Send(context.Background(), channel.Target{URL: r.URL}, m); res.Err == nil || !res.Permanent || !strings.Contains(res.Err.Error(), "internal") {
		t.Fatalf("loopback without --allow-private-webhooks: %+v", res)
	}
	if n := len(r.Accepted()); n != 1 {
		t.Fatalf("the receiver accepted %d messages, want 1", n)
	}
}

func TestParseEndpoint(t *testing.T) {
	e := channels.Endpoints{}
	for _, bad := range []string{"slack=http://x", "telegram", "telegram=ftp://x", "pagerduty="} {
		if err := channels.ParseEndpoint(e, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := channels.ParseEndpoint(e, "opsgenie=https://api.eu.opsgenie.com/"); err != nil || e["opsgenie"] != "https://api.eu.opsgenie.com" {
		t.Fatalf("%v %v", err, e)
	}
}
